//! The command table: every API command declared once.
//!
//! Dispatch, parameter binding (required and typed parameters, 431 on a bad value), role checks
//! and `listApis` are all driven by these declarations, so they cannot drift apart.

use cks_core::tenancy::AccountType;

use crate::error::ApiError;
use crate::params::{MapParam, RawParams};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamType {
    Uuid,
    String,
    Boolean,
    Integer,
    Long,
    Short,
    List,
    UuidList,
    Map,
    Date,
}

impl ParamType {
    /// The type name `listApis` shows.
    pub fn api_name(self) -> &'static str {
        match self {
            ParamType::Uuid => "uuid",
            ParamType::String => "string",
            ParamType::Boolean => "boolean",
            ParamType::Integer => "integer",
            ParamType::Long => "long",
            ParamType::Short => "short",
            ParamType::List | ParamType::UuidList => "list",
            ParamType::Map => "map",
            ParamType::Date => "date",
        }
    }
}

/// CloudStack's `@Parameter(length)` default: the longest string a parameter takes unless its
/// declaration says otherwise (most of its name and value columns are `varchar(255)`).
pub const DEFAULT_MAX_LENGTH: usize = 255;

/// What a parameter accepts beyond its type. Every numeric and string parameter is bounded:
/// `Default` is the type's own bound, an override narrows or widens it where the domain has one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    /// Integer = Java `int`, Short = `short`, Long = `long`; strings and lists
    /// [`DEFAULT_MAX_LENGTH`] characters.
    Default,
    /// An inclusive range of a numeric parameter (within its type's range).
    Range(i64, i64),
    /// The most characters a string or list parameter takes.
    MaxLength(usize),
}

/// Why a present value does not bind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rejection {
    /// Not of the parameter's type, or a number outside its range: CloudStack's invalid-value
    /// text (Java's `Integer.valueOf` refuses what does not fit an `int` the same way).
    Invalid,
    /// Longer than the parameter's maximum length.
    TooLong(usize),
}

#[derive(Debug)]
pub struct Param {
    /// Lowercase, as CloudStack binds it.
    pub name: &'static str,
    pub kind: ParamType,
    pub required: bool,
    pub description: &'static str,
    pub limit: Limit,
}

impl Param {
    /// The inclusive range a numeric parameter accepts; `None` for other types.
    pub fn range(&self) -> Option<(i64, i64)> {
        let of_type = match self.kind {
            ParamType::Short => (i64::from(i16::MIN), i64::from(i16::MAX)),
            ParamType::Integer => (i64::from(i32::MIN), i64::from(i32::MAX)),
            ParamType::Long => (i64::MIN, i64::MAX),
            _ => return None,
        };
        Some(match self.limit {
            Limit::Range(lo, hi) => (lo.max(of_type.0), hi.min(of_type.1)),
            _ => of_type,
        })
    }

    /// The most characters a string-like parameter accepts (for a map: each field name and
    /// value); `None` for other types (ids, booleans and dates have a fixed form, numbers a range).
    pub fn max_length(&self) -> Option<usize> {
        match self.kind {
            ParamType::String | ParamType::List | ParamType::Map => Some(match self.limit {
                Limit::MaxLength(n) => n,
                _ => DEFAULT_MAX_LENGTH,
            }),
            _ => None,
        }
    }

    /// Checks one present value against the parameter's type and bound.
    pub fn check(&self, value: &str) -> Result<(), Rejection> {
        if let Some(max) = self.max_length()
            && value.chars().count() > max
        {
            return Err(Rejection::TooLong(max));
        }
        let ok = match self.kind {
            ParamType::Uuid => is_uuid(value.trim()),
            ParamType::UuidList => value.split(',').all(|v| is_uuid(v.trim())),
            ParamType::Integer | ParamType::Long | ParamType::Short => {
                let (lo, hi) = self.range().unwrap_or((i64::MIN, i64::MAX));
                value
                    .trim()
                    .parse::<i64>()
                    .is_ok_and(|n| (lo..=hi).contains(&n))
            }
            ParamType::Boolean => {
                value.eq_ignore_ascii_case("true") || value.eq_ignore_ascii_case("false")
            }
            ParamType::String | ParamType::List | ParamType::Map | ParamType::Date => true,
        };
        if ok { Ok(()) } else { Err(Rejection::Invalid) }
    }
}

/// How a command answers: at once, with a job id, or with a new entity id and a job id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Sync,
    Async,
    AsyncCreate,
}

/// Who may call a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// No credentials needed (login).
    Public,
    RootAdmin,
    /// Root and domain admins.
    Admins,
    /// Every authenticated account.
    Everyone,
}

impl Access {
    pub fn allows(self, account_type: AccountType) -> bool {
        match self {
            Access::Public | Access::Everyone => true,
            Access::RootAdmin => account_type == AccountType::RootAdmin,
            Access::Admins => account_type != AccountType::User,
        }
    }
}

/// Which plugin a command belongs to; Kubernetes commands obey `cloud.kubernetes.service.enabled`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Plugin {
    Core,
    Kubernetes,
}

/// Which clouds can answer a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Availability {
    /// Answered through the `Cloud` trait or the service's own state: on every cloud.
    AnyCloud,
    /// Answered from the embedded simulator's inventory (its IaaS lists, hosts, account limits,
    /// fault injection): hidden from `listApis` and refused with 432 on another cloud.
    SimulatorOnly,
}

impl Availability {
    /// Can the configured cloud (`simulated`: the embedded simulator) answer the command?
    pub fn on(self, simulated: bool) -> bool {
        simulated || self == Availability::AnyCloud
    }
}

#[derive(Debug)]
pub struct Command {
    pub name: &'static str,
    pub description: &'static str,
    pub since: &'static str,
    pub mode: Mode,
    pub access: Access,
    pub plugin: Plugin,
    /// Object name in the response (`kubernetessupportedversion`, `zone`, `success`...).
    pub response_object: &'static str,
    /// Java class CloudStack reports in a job's `cmd` field.
    pub java_class: &'static str,
    pub params: &'static [&'static [Param]],
    pub availability: Availability,
}

impl Command {
    pub fn params(&self) -> impl Iterator<Item = &'static Param> + '_ {
        self.params.iter().flat_map(|group| group.iter())
    }

    pub fn is_async(&self) -> bool {
        self.mode != Mode::Sync
    }
}

/// `p!(name, Type, [required,] description [, Limit::...])`; without a limit the type's default.
macro_rules! p {
    (@limit) => {
        Limit::Default
    };
    (@limit $limit:expr) => {
        $limit
    };
    ($name:literal, $kind:ident, required, $desc:literal $(, $limit:expr)?) => {
        Param {
            name: $name,
            kind: ParamType::$kind,
            required: true,
            description: $desc,
            limit: p!(@limit $($limit)?),
        }
    };
    ($name:literal, $kind:ident, $desc:literal $(, $limit:expr)?) => {
        Param {
            name: $name,
            kind: ParamType::$kind,
            required: false,
            description: $desc,
            limit: p!(@limit $($limit)?),
        }
    };
}

const LIST: &[Param] = &[
    p!("keyword", String, "List by keyword"),
    p!("page", Integer, "The page number of the result set"),
    p!("pagesize", Integer, "The number of items per page"),
];

const OWNER_FILTER: &[Param] = &[
    p!(
        "account",
        String,
        "List resources by account. Must be used with the domainId parameter."
    ),
    p!(
        "domainid",
        Uuid,
        "List only resources belonging to the domain specified"
    ),
    p!(
        "isrecursive",
        Boolean,
        "Defaults to false, but if true, lists all resources from the parent specified by the domainId till leaves."
    ),
    p!(
        "listall",
        Boolean,
        "If set to false, list only resources belonging to the command's caller; if set to true - list resources that the caller is authorized to see. Default value is false"
    ),
    p!(
        "projectid",
        Uuid,
        "List objects by project; if projectid=-1 lists All VMs"
    ),
];

const OWNER_FOR_CREATE: &[Param] = &[
    p!(
        "account",
        String,
        "An optional account for the resource. Must be used with domainId."
    ),
    p!(
        "domainid",
        Uuid,
        "An optional domainId for the resource. If the account parameter is used, domainId must also be used."
    ),
    p!("projectid", Uuid, "An optional project for the resource"),
];

const ZONE: &str = "org.apache.cloudstack.api.command.user.zone.ListZonesCmd";

/// `cmd!(name, Mode, Access, Plugin, response object, Java class, description, [params])`;
/// `cmd!(simulator_only: name, ...)` for a command only the simulated cloud answers.
macro_rules! cmd {
    (simulator_only: $($rest:tt)*) => {
        cmd!(@with Availability::SimulatorOnly, $($rest)*)
    };
    (@with $availability:expr, $name:literal, $mode:ident, $access:ident, $plugin:ident, $obj:literal, $class:expr, $desc:literal, [$($group:expr),* $(,)?]) => {
        Command {
            name: $name,
            description: $desc,
            since: "4.0.0",
            mode: Mode::$mode,
            access: Access::$access,
            plugin: Plugin::$plugin,
            response_object: $obj,
            java_class: $class,
            params: &[$($group),*],
            availability: $availability,
        }
    };
    ($($rest:tt)*) => {
        cmd!(@with Availability::AnyCloud, $($rest)*)
    };
}

/// Every command the service answers.
pub static COMMANDS: &[Command] = &[
    // Session and discovery.
    cmd!(
        "login",
        Sync,
        Public,
        Core,
        "loginresponse",
        "org.apache.cloudstack.api.command.admin.user.LoginCmd",
        "Logs a user into the CloudStack. A successful login attempt will generate a JSESSIONID cookie value that can be passed in subsequent Query command calls until the \"logout\" command has been issued or the session has expired.",
        [&[
            p!("username", String, required, "Username"),
            p!("password", String, required, "Password"),
            p!(
                "domain",
                String,
                "Path of the domain that the user belongs to. Example: domain=/com/cloud/internal. If no domain is passed in, the ROOT (/) domain is assumed."
            ),
            p!(
                "domainid",
                Uuid,
                "The id of the domain that the user belongs to."
            )
        ]]
    ),
    cmd!(
        "logout",
        Sync,
        Everyone,
        Core,
        "logoutresponse",
        "org.apache.cloudstack.api.command.admin.user.LogoutCmd",
        "Logs out the user",
        [&[]]
    ),
    cmd!(
        "listApis",
        Sync,
        Everyone,
        Core,
        "api",
        "org.apache.cloudstack.api.command.admin.config.ListApisCmd",
        "lists all available apis on the server, provided by the Api Discovery plugin",
        [&[p!("name", String, "API name")]]
    ),
    cmd!(
        "listCapabilities",
        Sync,
        Everyone,
        Core,
        "capability",
        "org.apache.cloudstack.api.command.user.config.ListCapabilitiesCmd",
        "Lists capabilities",
        [&[]]
    ),
    cmd!(
        "queryAsyncJobResult",
        Sync,
        Everyone,
        Core,
        "asyncjobs",
        "org.apache.cloudstack.api.command.user.job.QueryAsyncJobResultCmd",
        "Retrieves the current status of asynchronous job.",
        [&[p!(
            "jobid",
            Uuid,
            required,
            "The ID of the asynchronous job"
        )]]
    ),
    cmd!(
        "listAsyncJobs",
        Sync,
        Everyone,
        Core,
        "asyncjobs",
        "org.apache.cloudstack.api.command.user.job.ListAsyncJobsCmd",
        "Lists all pending asynchronous jobs for the account.",
        [
            LIST,
            OWNER_FILTER,
            &[
                p!(
                    "startdate",
                    Date,
                    "The start date of the async job (use format \"yyyy-MM-dd'T'HH:mm:ss'+'SSSS\")"
                ),
                p!(
                    "managementserverid",
                    String,
                    "The id of the management server"
                ),
                p!("resourceid", String, "The id of the resource")
            ]
        ]
    ),
    // Tenancy.
    cmd!(
        "createDomain",
        Sync,
        Admins,
        Core,
        "domain",
        "org.apache.cloudstack.api.command.admin.domain.CreateDomainCmd",
        "Creates a domain",
        [&[
            p!("name", String, required, "Creates domain with this name"),
            p!(
                "parentdomainid",
                Uuid,
                "Assigns new domain a parent domain by domain ID of the parent.  If no parent domain is specified, the ROOT domain is assumed."
            ),
            p!(
                "networkdomain",
                String,
                "Network domain for networks in the domain"
            ),
            p!(
                "domainid",
                String,
                "Domain UUID, required for adding domain from another Region"
            )
        ]]
    ),
    cmd!(
        "listDomains",
        Sync,
        Admins,
        Core,
        "domain",
        "org.apache.cloudstack.api.command.admin.domain.ListDomainsCmd",
        "Lists domains and provides detailed information for listed domains",
        [
            LIST,
            &[
                p!("id", Uuid, "List domain by domain ID."),
                p!("name", String, "List domain by domain name."),
                p!("level", Integer, "List domains by domain level."),
                p!(
                    "listall",
                    Boolean,
                    "If set to false, list only resources belonging to the command's caller; if set to true - list resources that the caller is authorized to see. Default value is false"
                )
            ]
        ]
    ),
    cmd!(
        "createAccount",
        Sync,
        Admins,
        Core,
        "account",
        "org.apache.cloudstack.api.command.admin.account.CreateAccountCmd",
        "Creates an account",
        [&[
            p!("username", String, required, "Unique username."),
            p!(
                "password",
                String,
                required,
                "Clear text password (Default hashed to SHA256SALT)."
            ),
            p!("email", String, required, "Email"),
            p!("firstname", String, required, "Firstname"),
            p!("lastname", String, required, "Lastname"),
            p!(
                "account",
                String,
                "Name of the account to be created. The user will be added to this newly created account. If no account is specified, the username will be used as the account name."
            ),
            p!(
                "accounttype",
                Short,
                "Type of the account.  Specify 0 for user, 1 for root admin, and 2 for domain admin"
            ),
            p!(
                "roleid",
                Uuid,
                "Creates the account under the specified role."
            ),
            p!(
                "domainid",
                Uuid,
                "Creates the user under the specified domain."
            ),
            p!(
                "networkdomain",
                String,
                "Network domain for the account's networks"
            ),
            p!(
                "timezone",
                String,
                "Specifies a timezone for this command. For more information on the timezone parameter, see Time Zone Format."
            ),
            p!(
                "accountdetails",
                Map,
                "Details for the account used to store specific parameters"
            ),
            p!(
                "accountid",
                String,
                "Account UUID, required for adding account from external provisioning system"
            ),
            p!(
                "userid",
                String,
                "User UUID, required for adding account from external provisioning system"
            )
        ]]
    ),
    cmd!(
        "listAccounts",
        Sync,
        Everyone,
        Core,
        "account",
        "org.apache.cloudstack.api.command.user.account.ListAccountsCmd",
        "Lists accounts and provides detailed account information for listed accounts",
        [
            LIST,
            &[
                p!("id", Uuid, "List account by account ID"),
                p!("name", String, "List account by account name"),
                p!(
                    "accounttype",
                    Integer,
                    "List accounts by account type. Valid account types are 1 (admin), 2 (domain-admin), and 0 (user)."
                ),
                p!(
                    "state",
                    String,
                    "List accounts by state. Valid states are enabled, disabled, and locked."
                ),
                p!(
                    "domainid",
                    Uuid,
                    "List only resources belonging to the domain specified"
                ),
                p!(
                    "isrecursive",
                    Boolean,
                    "Defaults to false, but if true, lists all resources from the parent specified by the domainId till leaves."
                ),
                p!(
                    "listall",
                    Boolean,
                    "If set to false, list only resources belonging to the command's caller; if set to true - list resources that the caller is authorized to see. Default value is false"
                )
            ]
        ]
    ),
    cmd!(
        "createUser",
        Sync,
        Admins,
        Core,
        "user",
        "org.apache.cloudstack.api.command.admin.user.CreateUserCmd",
        "Creates a user for an account that already exists",
        [&[
            p!(
                "account",
                String,
                required,
                "Creates the user under the specified account. If no account is specified, the username will be used as the account name."
            ),
            p!("username", String, required, "Unique username."),
            p!(
                "password",
                String,
                required,
                "Clear text password (Default hashed to SHA256SALT)."
            ),
            p!("email", String, required, "Email"),
            p!("firstname", String, required, "Firstname"),
            p!("lastname", String, required, "Lastname"),
            p!(
                "domainid",
                Uuid,
                "Creates the user under the specified domain. Has to be accompanied with the account parameter"
            ),
            p!("timezone", String, "Specifies a timezone for this command."),
            p!(
                "userid",
                String,
                "User UUID, required for adding account from external provisioning system"
            )
        ]]
    ),
    cmd!(
        "listUsers",
        Sync,
        Everyone,
        Core,
        "user",
        "org.apache.cloudstack.api.command.admin.user.ListUsersCmd",
        "Lists user accounts",
        [
            LIST,
            &[
                p!("id", Uuid, "List user by ID."),
                p!("username", String, "List user by the username"),
                p!(
                    "account",
                    String,
                    "List resources by account. Must be used with the domainId parameter."
                ),
                p!(
                    "accounttype",
                    Integer,
                    "List users by account type. Valid types include admin, domain-admin, read-only-admin, or user."
                ),
                p!("state", String, "List users by state of the user account."),
                p!(
                    "domainid",
                    Uuid,
                    "List only resources belonging to the domain specified"
                ),
                p!(
                    "isrecursive",
                    Boolean,
                    "Defaults to false, but if true, lists all resources from the parent specified by the domainId till leaves."
                ),
                p!(
                    "listall",
                    Boolean,
                    "If set to false, list only resources belonging to the command's caller; if set to true - list resources that the caller is authorized to see. Default value is false"
                )
            ]
        ]
    ),
    cmd!(
        "registerUserKeys",
        Sync,
        Everyone,
        Core,
        "userkeys",
        "org.apache.cloudstack.api.command.admin.user.RegisterUserKeysCmd",
        "This command allows a user to register for the developer API, returning a secret key and an API key. This request is made through the integration API port, so it is a privileged command and must be made on behalf of a user. It is up to the implementer just how the username and password are entered, and then how that translates to an integration API request. Both secret key and API key should be returned to the user",
        [&[p!("id", Uuid, required, "User id")]]
    ),
    cmd!(
        "getUserKeys",
        Sync,
        Everyone,
        Core,
        "userkeys",
        "org.apache.cloudstack.api.command.admin.user.GetUserKeysCmd",
        "This command allows the user to query the seceret and API keys for the account",
        [&[p!(
            "id",
            Uuid,
            required,
            "ID of the user whose keys are required"
        )]]
    ),
    cmd!(
        "createProject",
        AsyncCreate,
        Everyone,
        Core,
        "project",
        "org.apache.cloudstack.api.command.user.project.CreateProjectCmd",
        "Creates a project",
        [&[
            p!("name", String, required, "Name of the project"),
            p!("displaytext", String, "Display text of the project"),
            p!(
                "account",
                String,
                "Account who will be Admin for the project"
            ),
            p!(
                "domainid",
                Uuid,
                "Domain ID of the account owning a project"
            ),
            p!("accountid", Uuid, "ID of the account owning a project"),
            p!(
                "userid",
                Uuid,
                "User ID of the account to be assigned as owner of the project i.e., Project Admin"
            )
        ]]
    ),
    cmd!(
        "listProjects",
        Sync,
        Everyone,
        Core,
        "project",
        "org.apache.cloudstack.api.command.user.project.ListProjectsCmd",
        "Lists projects and provides detailed information for listed projects",
        [
            LIST,
            &[
                p!("id", Uuid, "List projects by project ID"),
                p!("name", String, "List projects by name"),
                p!("displaytext", String, "List projects by display text"),
                p!("state", String, "List projects by state"),
                p!(
                    "account",
                    String,
                    "List resources by account. Must be used with the domainId parameter."
                ),
                p!(
                    "domainid",
                    Uuid,
                    "List only resources belonging to the domain specified"
                ),
                p!(
                    "isrecursive",
                    Boolean,
                    "Defaults to false, but if true, lists all resources from the parent specified by the domainId till leaves."
                ),
                p!(
                    "listall",
                    Boolean,
                    "If set to false, list only resources belonging to the command's caller; if set to true - list resources that the caller is authorized to see. Default value is false"
                )
            ]
        ]
    ),
    // Resource limits of accounts (the simulated cloud enforces them).
    cmd!(
        simulator_only: "updateResourceLimit",
        Sync,
        Admins,
        Core,
        "resourcelimit",
        "org.apache.cloudstack.api.command.admin.resource.UpdateResourceLimitCmd",
        "Updates resource limits for an account or domain.",
        [&[
            p!(
                "resourcetype",
                Integer,
                required,
                "Type of resource to update. 0 - Instance. 1 - IP. 6 - Network. 8 - CPU. 9 - Memory (in MiB)."
            ),
            p!(
                "max",
                Long,
                "Maximum resource limit. A -1 means the resource has no limit."
            ),
            p!(
                "account",
                String,
                "Update resource for a specified account. Must be used with the domainId parameter."
            ),
            p!(
                "domainid",
                Uuid,
                "Update resource limits for all accounts in specified domain. If used with the account parameter, updates resource limits for a specified account in specified domain."
            ),
            p!("projectid", Uuid, "Update resource limits for project")
        ]]
    ),
    cmd!(
        simulator_only: "listResourceLimits",
        Sync,
        Everyone,
        Core,
        "resourcelimit",
        "org.apache.cloudstack.api.command.user.resource.ListResourceLimitsCmd",
        "Lists resource limits.",
        [
            LIST,
            OWNER_FILTER,
            &[p!(
                "resourcetype",
                Integer,
                "Type of resource. 0 - Instance. 1 - IP. 6 - Network. 8 - CPU. 9 - Memory (in MiB)."
            )]
        ]
    ),
    // Settings.
    cmd!(
        "listConfigurations",
        Sync,
        RootAdmin,
        Core,
        "configuration",
        "org.apache.cloudstack.api.command.admin.config.ListCfgsByCmd",
        "Lists all configurations.",
        [
            LIST,
            &[
                p!("name", String, "Lists configuration by name"),
                p!("category", String, "Lists configurations by category")
            ]
        ]
    ),
    cmd!(
        "updateConfiguration",
        Sync,
        RootAdmin,
        Core,
        "configuration",
        "org.apache.cloudstack.api.command.admin.config.UpdateCfgCmd",
        "Updates a configuration.",
        [&[
            p!("name", String, required, "The name of the configuration"),
            p!(
                "value",
                String,
                "The value of the configuration",
                Limit::MaxLength(4095)
            ),
            p!(
                "zoneid",
                Uuid,
                "The ID of the Zone to update the parameter value for corresponding zone"
            ),
            p!(
                "clusterid",
                Uuid,
                "The ID of the Cluster to update the parameter value for corresponding cluster"
            ),
            p!(
                "accountid",
                Uuid,
                "The ID of the Account to update the parameter value for corresponding account"
            ),
            p!(
                "domainid",
                Uuid,
                "The ID of the Domain to update the parameter value for corresponding domain"
            ),
            p!(
                "storageid",
                Uuid,
                "The ID of the Storage pool to update the parameter value for corresponding storage pool"
            )
        ]]
    ),
    // The simulated cloud's inventory.
    cmd!(
        simulator_only: "listZones",
        Sync,
        Everyone,
        Core,
        "zone",
        ZONE,
        "Lists zones",
        [
            LIST,
            &[
                p!("id", Uuid, "The ID of the zone"),
                p!(
                    "ids",
                    UuidList,
                    "The IDs of the zones, mutually exclusive with id"
                ),
                p!("name", String, "The name of the zone"),
                p!(
                    "available",
                    Boolean,
                    "True if you want to retrieve all available Zones. False if you only want to return the Zones from which you have at least one Instance. Default is false."
                ),
                p!(
                    "networktype",
                    String,
                    "The network type of the zone that the virtual machine belongs to"
                ),
                p!(
                    "domainid",
                    Uuid,
                    "The ID of the domain associated with the zone"
                ),
                p!(
                    "showcapacities",
                    Boolean,
                    "Flag to display the capacity of the zones"
                )
            ]
        ]
    ),
    cmd!(
        simulator_only: "listHosts",
        Sync,
        RootAdmin,
        Core,
        "host",
        "org.apache.cloudstack.api.command.admin.host.ListHostsCmd",
        "Lists hosts.",
        [
            LIST,
            &[
                p!("id", Uuid, "The id of the host"),
                p!("name", String, "The name of the host"),
                p!("zoneid", Uuid, "The Zone ID for the host"),
                p!("type", String, "The host type"),
                p!("state", String, "The state of the host")
            ]
        ]
    ),
    cmd!(
        simulator_only: "listServiceOfferings",
        Sync,
        Everyone,
        Core,
        "serviceoffering",
        "org.apache.cloudstack.api.command.user.offering.ListServiceOfferingsCmd",
        "Lists all available service offerings.",
        [
            LIST,
            &[
                p!("id", Uuid, "ID of the service offering"),
                p!("name", String, "Name of the service offering"),
                p!(
                    "zoneid",
                    Uuid,
                    "ID of zone disk offering is associated with"
                ),
                p!("issystem", Boolean, "Is this a system VM offering"),
                p!(
                    "cpunumber",
                    Integer,
                    "The CPU number that listed offerings must support"
                ),
                p!(
                    "memory",
                    Integer,
                    "The RAM memory that listed offering must support"
                ),
                p!(
                    "domainid",
                    Uuid,
                    "The ID of the domain associated with the service offering"
                ),
                p!(
                    "isrecursive",
                    Boolean,
                    "Defaults to false, but if true, lists all resources from the parent specified by the domainId till leaves."
                ),
                p!(
                    "listall",
                    Boolean,
                    "If set to false, list only resources belonging to the command's caller; if set to true - list resources that the caller is authorized to see. Default value is false"
                )
            ]
        ]
    ),
    cmd!(
        simulator_only: "listNetworkOfferings",
        Sync,
        Everyone,
        Core,
        "networkoffering",
        "org.apache.cloudstack.api.command.user.network.ListNetworkOfferingsCmd",
        "Lists all available network offerings.",
        [
            LIST,
            &[
                p!("id", Uuid, "List network offerings by ID"),
                p!("name", String, "List network offerings by name"),
                p!(
                    "zoneid",
                    Uuid,
                    "List network offerings available for network creation in specific zone"
                ),
                p!(
                    "guestiptype",
                    String,
                    "List network offerings by guest type: shared or isolated"
                ),
                p!("state", String, "List network offerings by state"),
                p!(
                    "forvpc",
                    Boolean,
                    "The network offering can be used only for network creation inside the VPC"
                )
            ]
        ]
    ),
    cmd!(
        simulator_only: "listTemplates",
        Sync,
        Everyone,
        Core,
        "template",
        "org.apache.cloudstack.api.command.user.template.ListTemplatesCmd",
        "List all public, private, and privileged templates.",
        [
            LIST,
            OWNER_FILTER,
            &[
                p!(
                    "templatefilter",
                    String,
                    required,
                    "Possible values are \"featured\", \"self\", \"selfexecutable\",\"sharedexecutable\",\"executable\", and \"community\"."
                ),
                p!("id", Uuid, "The template ID"),
                p!(
                    "ids",
                    UuidList,
                    "The IDs of the templates, mutually exclusive with id"
                ),
                p!("name", String, "The template name"),
                p!("zoneid", Uuid, "List templates by zoneId"),
                p!(
                    "hypervisor",
                    String,
                    "The hypervisor for which to restrict the search"
                ),
                p!(
                    "isready",
                    Boolean,
                    "List templates that are ready to be deployed"
                ),
                p!(
                    "arch",
                    String,
                    "The CPU arch of the template. Valid options are: x86_64, aarch64"
                ),
                p!(
                    "forcks",
                    Boolean,
                    "List templates that are specific for CKS"
                )
            ]
        ]
    ),
    cmd!(
        simulator_only: "listIsos",
        Sync,
        Everyone,
        Core,
        "iso",
        "org.apache.cloudstack.api.command.user.iso.ListIsosCmd",
        "Lists all available ISO files.",
        [
            LIST,
            OWNER_FILTER,
            &[
                p!(
                    "isofilter",
                    String,
                    "Possible values are \"featured\", \"self\", \"selfexecutable\",\"sharedexecutable\",\"executable\", and \"community\"."
                ),
                p!("id", Uuid, "List ISO by ID"),
                p!("name", String, "List all ISOs by name"),
                p!("zoneid", Uuid, "The ID of the zone"),
                p!(
                    "bootable",
                    Boolean,
                    "True if the ISO is bootable, false otherwise"
                ),
                p!(
                    "ispublic",
                    Boolean,
                    "True if the ISO is publicly available to all users, false otherwise."
                ),
                p!(
                    "isready",
                    Boolean,
                    "True if this ISO is ready to be deployed"
                ),
                p!(
                    "arch",
                    String,
                    "The CPU arch of the ISO. Valid options are: x86_64, aarch64"
                )
            ]
        ]
    ),
    cmd!(
        simulator_only: "listNetworks",
        Sync,
        Everyone,
        Core,
        "network",
        "org.apache.cloudstack.api.command.user.network.ListNetworksCmd",
        "Lists all available networks.",
        [
            LIST,
            OWNER_FILTER,
            &[
                p!("id", Uuid, "List networks by ID"),
                p!("name", String, "List networks by name"),
                p!("zoneid", Uuid, "The zone ID of the network"),
                p!(
                    "type",
                    String,
                    "The type of the network. Supported values are: isolated, l2, shared and all"
                ),
                p!("vpcid", Uuid, "List networks by VPC"),
                p!(
                    "networkofferingid",
                    Uuid,
                    "List networks by network offering ID"
                )
            ]
        ]
    ),
    cmd!(
        simulator_only: "listPublicIpAddresses",
        Sync,
        Everyone,
        Core,
        "publicipaddress",
        "org.apache.cloudstack.api.command.user.address.ListPublicIpAddressesCmd",
        "Lists all public IP addresses",
        [
            LIST,
            OWNER_FILTER,
            &[
                p!("id", Uuid, "Lists IP address by ID"),
                p!("ipaddress", String, "Lists the specified IP address"),
                p!(
                    "associatednetworkid",
                    Uuid,
                    "Lists all public IP addresses associated to the network specified"
                ),
                p!("zoneid", Uuid, "Lists all public IP addresses by zone ID"),
                p!("issourcenat", Boolean, "List only source NAT IP addresses"),
                p!("isstaticnat", Boolean, "List only static NAT IP addresses"),
                p!(
                    "allocatedonly",
                    Boolean,
                    "Limits search results to allocated public IP addresses"
                ),
                p!("state", String, "Lists all public IP addresses by state")
            ]
        ]
    ),
    cmd!(
        simulator_only: "listVirtualMachines",
        Sync,
        Everyone,
        Core,
        "virtualmachine",
        "org.apache.cloudstack.api.command.user.vm.ListVMsCmd",
        "List the virtual machines owned by the account.",
        [
            LIST,
            OWNER_FILTER,
            &[
                p!("id", Uuid, "The ID of the virtual machine"),
                p!(
                    "ids",
                    UuidList,
                    "The IDs of the virtual machines, mutually exclusive with id"
                ),
                p!(
                    "name",
                    String,
                    "Name of the virtual machine (a substring match is not used)"
                ),
                p!(
                    "state",
                    String,
                    "State of the virtual machine. Possible values are: Running, Stopped, Present, Destroyed, Expunged. Present is used for the state equal not destroyed."
                ),
                p!("zoneid", Uuid, "The availability zone ID"),
                p!("networkid", Uuid, "List by network ID"),
                p!("templateid", Uuid, "List VMs by template"),
                p!("serviceofferingid", Uuid, "List by the service offering"),
                p!("keypair", String, "List VMs by SSH key pair name"),
                p!(
                    "userdata",
                    Boolean,
                    "Whether to return the VMs' user data or not. By default, user data will not be returned."
                )
            ]
        ]
    ),
    cmd!(
        simulator_only: "getVirtualMachineUserData",
        Sync,
        Admins,
        Core,
        "virtualmachineuserdata",
        "org.apache.cloudstack.api.command.admin.vm.GetVMUserDataCmd",
        "Returns user data associated with the VM",
        [&[p!(
            "virtualmachineid",
            Uuid,
            required,
            "The ID of the virtual machine"
        )]]
    ),
    cmd!(
        simulator_only: "listSSHKeyPairs",
        Sync,
        Everyone,
        Core,
        "sshkeypair",
        "org.apache.cloudstack.api.command.user.ssh.ListSSHKeyPairsCmd",
        "List registered keypairs",
        [
            LIST,
            OWNER_FILTER,
            &[
                p!("id", Uuid, "The ID of the ssh keypair"),
                p!("name", String, "A key pair name to look for"),
                p!(
                    "fingerprint",
                    String,
                    "A public key fingerprint to look for"
                )
            ]
        ]
    ),
    cmd!(
        "createSSHKeyPair",
        Sync,
        Everyone,
        Core,
        "keypair",
        "org.apache.cloudstack.api.command.user.ssh.CreateSSHKeyPairCmd",
        "Create a new keypair and returns the private key",
        [
            OWNER_FOR_CREATE,
            &[p!("name", String, required, "Name of the keypair")]
        ]
    ),
    cmd!(
        "registerSSHKeyPair",
        Sync,
        Everyone,
        Core,
        "keypair",
        "org.apache.cloudstack.api.command.user.ssh.RegisterSSHKeyPairCmd",
        "Register a public key in a keypair under a certain name",
        [
            OWNER_FOR_CREATE,
            &[
                p!("name", String, required, "Name of the keypair"),
                p!(
                    "publickey",
                    String,
                    required,
                    "Public key material of the keypair",
                    Limit::MaxLength(5120)
                )
            ]
        ]
    ),
    cmd!(
        "deleteSSHKeyPair",
        Sync,
        Everyone,
        Core,
        "success",
        "org.apache.cloudstack.api.command.user.ssh.DeleteSSHKeyPairCmd",
        "Deletes a keypair by name",
        [
            OWNER_FOR_CREATE,
            &[p!("name", String, required, "Name of the keypair")]
        ]
    ),
    // The Kubernetes version catalog.
    cmd!(
        "addKubernetesSupportedVersion",
        Sync,
        RootAdmin,
        Kubernetes,
        "kubernetessupportedversion",
        "org.apache.cloudstack.api.command.admin.kubernetes.version.AddKubernetesSupportedVersionCmd",
        "Add a supported Kubernetes version",
        [&[
            p!(
                "semanticversion",
                String,
                required,
                "The semantic version of the Kubernetes version. It needs to be specified in MAJOR.MINOR.PATCH format"
            ),
            p!(
                "mincpunumber",
                Integer,
                required,
                "The minimum number of CPUs to be set with the Kubernetes version"
            ),
            p!(
                "minmemory",
                Integer,
                required,
                "The minimum RAM size in MB to be set with the Kubernetes version"
            ),
            p!(
                "name",
                String,
                "The name of the Kubernetes supported version"
            ),
            p!(
                "zoneid",
                Uuid,
                "The ID of the zone in which Kubernetes supported version will be available"
            ),
            p!(
                "url",
                String,
                "The URL of the binaries ISO for Kubernetes supported version",
                Limit::MaxLength(2048)
            ),
            p!(
                "checksum",
                String,
                "The checksum value of the binaries ISO. The parameter containing the checksum will be considered a MD5sum if it is not prefixed\n and just a plain ascii/utf8 representation of a hexadecimal string. If it is required to\n use another algorithm the hexadecimal string is to be prefixed with a string of the form,\n \"{<algorithm>}\", not including the double quotes. In this <algorithm> is the exact string\n representing the java supported algorithm, i.e. MD5 or SHA-256. Note that java does not\n contain an algorithm called SHA256 or one called sha-256, only SHA-256."
            ),
            p!(
                "directdownload",
                Boolean,
                "If set to true the Kubernetes supported version ISO will bypass Secondary Storage and be downloaded to Primary Storage on deployment. Default is false"
            ),
            p!(
                "arch",
                String,
                "The CPU arch of the Kubernetes ISO. Valid options are: x86_64, aarch64"
            )
        ]]
    ),
    cmd!(
        "listKubernetesSupportedVersions",
        Sync,
        Everyone,
        Kubernetes,
        "kubernetessupportedversion",
        "org.apache.cloudstack.api.command.user.kubernetes.version.ListKubernetesSupportedVersionsCmd",
        "Lists supported Kubernetes version",
        [
            LIST,
            &[
                p!("id", Uuid, "The ID of the Kubernetes supported version"),
                p!(
                    "zoneid",
                    Uuid,
                    "The ID of the zone in which Kubernetes supported version will be available"
                ),
                p!(
                    "minimumsemanticversion",
                    String,
                    "The minimum semantic version for the Kubernetes supported version to be listed"
                ),
                p!(
                    "minimumkubernetesversionid",
                    Uuid,
                    "The ID of the minimum Kubernetes supported version"
                ),
                p!(
                    "arch",
                    String,
                    "The CPU arch of the binaries ISO. Valid options are: x86_64, aarch64"
                )
            ]
        ]
    ),
    cmd!(
        "updateKubernetesSupportedVersion",
        Sync,
        RootAdmin,
        Kubernetes,
        "kubernetessupportedversion",
        "org.apache.cloudstack.api.command.admin.kubernetes.version.UpdateKubernetesSupportedVersionCmd",
        "Update a supported Kubernetes version",
        [&[
            p!(
                "id",
                Uuid,
                required,
                "The ID of the Kubernetes supported version"
            ),
            p!(
                "state",
                String,
                required,
                "The enabled or disabled state of the Kubernetes supported version"
            )
        ]]
    ),
    cmd!(
        "deleteKubernetesSupportedVersion",
        Async,
        RootAdmin,
        Kubernetes,
        "success",
        "org.apache.cloudstack.api.command.admin.kubernetes.version.DeleteKubernetesSupportedVersionCmd",
        "Deletes a Kubernetes cluster",
        [&[p!(
            "id",
            Uuid,
            required,
            "The ID of the Kubernetes supported version"
        )]]
    ),
    // Kubernetes clusters.
    cmd!(
        "createKubernetesCluster",
        AsyncCreate,
        Everyone,
        Kubernetes,
        "kubernetescluster",
        "org.apache.cloudstack.api.command.user.kubernetes.cluster.CreateKubernetesClusterCmd",
        "Creates a Kubernetes cluster",
        [
            OWNER_FOR_CREATE,
            &[
                p!("name", String, required, "Name for the Kubernetes cluster"),
                p!(
                    "zoneid",
                    Uuid,
                    required,
                    "Availability zone in which Kubernetes cluster to be launched"
                ),
                p!(
                    "description",
                    String,
                    "Description for the Kubernetes cluster"
                ),
                p!(
                    "clustertype",
                    String,
                    "Type of the cluster: CloudManaged, ExternalManaged. The default value is CloudManaged."
                ),
                p!(
                    "kubernetesversionid",
                    Uuid,
                    "Kubernetes version with which cluster to be launched"
                ),
                p!(
                    "serviceofferingid",
                    Uuid,
                    "The ID of the service offering for the virtual machines in the cluster."
                ),
                p!(
                    "nodeofferings",
                    Map,
                    "(Optional) Node Type to Service Offering ID mapping. If provided, it overrides the serviceofferingid parameter"
                ),
                p!(
                    "nodetemplates",
                    Map,
                    "(Optional) Node Type to Template ID mapping. If provided, it overrides the default template: System VM template"
                ),
                p!(
                    "etcdnodes",
                    Long,
                    "Number of Kubernetes cluster etcd nodes, default is 0.In case the number is greater than 0, etcd nodes are separate from master nodes and are provisioned accordingly"
                ),
                p!(
                    "controlnodes",
                    Long,
                    "Number of Kubernetes cluster control nodes, default is 1. This option is deprecated, please use 'controlnodes' parameter."
                ),
                p!(
                    "masternodes",
                    Long,
                    "Number of Kubernetes cluster master nodes, default is 1. This option is deprecated, please use 'controlnodes' parameter."
                ),
                p!(
                    "size",
                    Long,
                    "Number of Kubernetes cluster worker nodes. This is not required for CKS managed Kubernetes clusters."
                ),
                p!(
                    "networkid",
                    Uuid,
                    "Network in which Kubernetes cluster is to be launched"
                ),
                p!(
                    "keypair",
                    String,
                    "Name of the ssh key pair used to login to the virtual machines"
                ),
                p!(
                    "externalloadbalanceripaddress",
                    String,
                    "External load balancer IP address while using shared network with Kubernetes HA cluster"
                ),
                p!(
                    "noderootdisksize",
                    Long,
                    "Root disk size in GB for each node"
                ),
                p!(
                    "dockerregistryusername",
                    String,
                    "User name for the docker image private registry"
                ),
                p!(
                    "dockerregistrypassword",
                    String,
                    "Password for the docker image private registry"
                ),
                p!(
                    "dockerregistryurl",
                    String,
                    "URL for the docker image private registry"
                ),
                p!(
                    "hypervisor",
                    String,
                    "the hypervisor on which the CKS cluster is to be deployed. This is required if the zone in which the CKS cluster is being deployed has clusters with different hypervisor types."
                ),
                p!("cniconfigurationid", Uuid, "the ID of the Userdata"),
                p!(
                    "cniconfigdetails",
                    Map,
                    "used to specify the parameters values for the variables in userdata."
                ),
                p!(
                    "enablecsi",
                    Boolean,
                    "if true, setups up CloudStack CSI driver"
                ),
                p!(
                    "asnumber",
                    Long,
                    "(optional) Vlan number for the Kubernetes cluster network",
                    // A 4-byte AS number.
                    Limit::Range(1, 4_294_967_295)
                )
            ]
        ]
    ),
    cmd!(
        "listKubernetesClusters",
        Sync,
        Everyone,
        Kubernetes,
        "kubernetescluster",
        "org.apache.cloudstack.api.command.user.kubernetes.cluster.ListKubernetesClustersCmd",
        "Lists Kubernetes clusters",
        [
            LIST,
            OWNER_FILTER,
            &[
                p!("id", Uuid, "The ID of the Kubernetes cluster"),
                p!("name", String, "Name of the Kubernetes cluster"),
                p!("state", String, "State of the Kubernetes cluster"),
                p!(
                    "clustertype",
                    String,
                    "Type of the cluster: CloudManaged, ExternalManaged"
                )
            ]
        ]
    ),
    cmd!(
        "startKubernetesCluster",
        Async,
        Everyone,
        Kubernetes,
        "kubernetescluster",
        "org.apache.cloudstack.api.command.user.kubernetes.cluster.StartKubernetesClusterCmd",
        "Starts a stopped CloudManaged Kubernetes cluster",
        [&[p!("id", Uuid, required, "The ID of the Kubernetes cluster")]]
    ),
    cmd!(
        "stopKubernetesCluster",
        Async,
        Everyone,
        Kubernetes,
        "success",
        "org.apache.cloudstack.api.command.user.kubernetes.cluster.StopKubernetesClusterCmd",
        "Stops a running CloudManaged Kubernetes cluster",
        [&[p!("id", Uuid, required, "The ID of the Kubernetes cluster")]]
    ),
    cmd!(
        "deleteKubernetesCluster",
        Async,
        Everyone,
        Kubernetes,
        "success",
        "org.apache.cloudstack.api.command.user.kubernetes.cluster.DeleteKubernetesClusterCmd",
        "Deletes a Kubernetes cluster",
        [&[
            p!("id", Uuid, required, "The ID of the Kubernetes cluster"),
            p!(
                "cleanup",
                Boolean,
                "Destroy attached instances of the ExternalManaged Cluster. Default: false"
            ),
            p!(
                "expunge",
                Boolean,
                "Expunge attached instances of the ExternalManaged Cluster. If true, value of cleanup is ignored. Default: false"
            ),
            p!(
                "forced",
                Boolean,
                "Admins only: delete from any state, abort a running operation instead of waiting for it, and go on past resources that fail to be removed until a final sweep. Default: false"
            )
        ]]
    ),
    cmd!(
        "scaleKubernetesCluster",
        Async,
        Everyone,
        Kubernetes,
        "kubernetescluster",
        "org.apache.cloudstack.api.command.user.kubernetes.cluster.ScaleKubernetesClusterCmd",
        "Scales a created, running or stopped CloudManaged Kubernetes cluster",
        [&[
            p!("id", Uuid, required, "The ID of the Kubernetes cluster"),
            p!(
                "serviceofferingid",
                Uuid,
                "The ID of the service offering for the virtual machines in the cluster."
            ),
            p!(
                "nodeofferings",
                Map,
                "(Optional) Node Type to Service Offering ID mapping. If provided, it overrides the serviceofferingid parameter"
            ),
            p!("size", Long, "Number of Kubernetes cluster nodes"),
            p!(
                "nodeids",
                UuidList,
                "The IDs of the VMs to remove from the cluster"
            ),
            p!(
                "autoscalingenabled",
                Boolean,
                "Whether autoscaling is enabled for the cluster"
            ),
            p!(
                "minsize",
                Long,
                "Minimum number of worker nodes in the cluster"
            ),
            p!(
                "maxsize",
                Long,
                "Maximum number of worker nodes in the cluster"
            )
        ]]
    ),
    cmd!(
        "upgradeKubernetesCluster",
        Async,
        Everyone,
        Kubernetes,
        "kubernetescluster",
        "org.apache.cloudstack.api.command.user.kubernetes.cluster.UpgradeKubernetesClusterCmd",
        "Upgrades a running CloudManaged Kubernetes cluster",
        [&[
            p!("id", Uuid, required, "The ID of the Kubernetes cluster"),
            p!(
                "kubernetesversionid",
                Uuid,
                required,
                "The ID of the Kubernetes version for upgrade"
            )
        ]]
    ),
    cmd!(
        "getKubernetesClusterConfig",
        Sync,
        Everyone,
        Kubernetes,
        "clusterconfig",
        "org.apache.cloudstack.api.command.user.kubernetes.cluster.GetKubernetesClusterConfigCmd",
        "Get Kubernetes cluster config",
        [&[p!("id", Uuid, "The ID of the Kubernetes cluster")]]
    ),
    // CNI configurations (user data registered for CKS clusters).
    cmd!(
        "registerCniConfiguration",
        Sync,
        Everyone,
        Kubernetes,
        "cniconfig",
        "org.apache.cloudstack.api.command.user.kubernetes.cluster.RegisterCniConfigurationCmd",
        "Register a CNI Configuration to be used with CKS cluster",
        [
            OWNER_FOR_CREATE,
            &[
                p!("name", String, required, "Name of the CNI configuration"),
                p!(
                    "cniconfig",
                    String,
                    "CNI Configuration content to be registered as User data",
                    // As CloudStack's user data; `userdata` applies `vm.userdata.max.length`.
                    Limit::MaxLength(crate::userdata::MAX_POST_LENGTH)
                ),
                p!(
                    "params",
                    String,
                    "comma separated list of variables declared in CNI configuration content"
                )
            ]
        ]
    ),
    cmd!(
        "listCniConfiguration",
        Sync,
        Everyone,
        Kubernetes,
        "cniconfig",
        "org.apache.cloudstack.api.command.user.kubernetes.cluster.ListCniConfigurationCmd",
        "List user data for CNI plugins",
        [
            LIST,
            OWNER_FILTER,
            &[
                p!("id", Uuid, "the ID of the CNI configuration"),
                p!("name", String, "CNI configuration name")
            ]
        ]
    ),
    cmd!(
        "deleteCniConfiguration",
        Sync,
        Everyone,
        Kubernetes,
        "success",
        "org.apache.cloudstack.api.command.user.kubernetes.cluster.DeleteCniConfigurationCmd",
        "Deletes a CNI Configuration",
        [
            OWNER_FOR_CREATE,
            &[p!("id", Uuid, required, "the ID of the CNI configuration")]
        ]
    ),
    // Network rules of the simulated cloud.
    cmd!(
        simulator_only: "listFirewallRules",
        Sync,
        Everyone,
        Core,
        "firewallrule",
        "org.apache.cloudstack.api.command.user.firewall.ListFirewallRulesCmd",
        "Lists all firewall rules for an IP address.",
        [
            LIST,
            OWNER_FILTER,
            &[
                p!("id", Uuid, "Lists rule with the specified ID."),
                p!(
                    "ipaddressid",
                    Uuid,
                    "The ID of IP address of the firewall services"
                ),
                p!("networkid", Uuid, "List firewall rules for certain network")
            ]
        ]
    ),
    cmd!(
        simulator_only: "listPortForwardingRules",
        Sync,
        Everyone,
        Core,
        "portforwardingrule",
        "org.apache.cloudstack.api.command.user.firewall.ListPortForwardingRulesCmd",
        "Lists all port forwarding rules for an IP address.",
        [
            LIST,
            OWNER_FILTER,
            &[
                p!("id", Uuid, "Lists rule with the specified ID."),
                p!(
                    "ipaddressid",
                    Uuid,
                    "The ID of IP address of the port forwarding services"
                ),
                p!(
                    "networkid",
                    Uuid,
                    "List port forwarding rules for certain network"
                )
            ]
        ]
    ),
    cmd!(
        simulator_only: "listLoadBalancerRules",
        Sync,
        Everyone,
        Core,
        "loadbalancerrule",
        "org.apache.cloudstack.api.command.user.loadbalancer.ListLoadBalancerRulesCmd",
        "Lists load balancer rules.",
        [
            LIST,
            OWNER_FILTER,
            &[
                p!("id", Uuid, "The ID of the load balancer rule"),
                p!("name", String, "The name of the load balancer rule"),
                p!(
                    "publicipid",
                    Uuid,
                    "The public IP address ID of the load balancer rule"
                ),
                p!(
                    "virtualmachineid",
                    Uuid,
                    "The ID of the virtual machine of the load balancer rule"
                ),
                p!("zoneid", Uuid, "The availability zone ID"),
                p!("networkid", Uuid, "List by network ID the rule belongs to")
            ]
        ]
    ),
    // Simulator administration.
    cmd!(
        simulator_only: "injectSimulatorFault",
        Sync,
        RootAdmin,
        Core,
        "success",
        "cks.api.InjectSimulatorFaultCmd",
        "Makes the simulated cloud misbehave: fail VM deploys, exhaust capacity, make an API endpoint unreachable, stop a VM behind the service's back, or fail calls",
        [&[
            p!(
                "fault",
                String,
                required,
                "failvmdeploys, exhaustcapacity, endpointunreachable, stopvm, unavailable or clear"
            ),
            p!(
                "count",
                Integer,
                "How many deploys or calls fail (failvmdeploys, unavailable)",
                Limit::Range(0, i32::MAX as i64)
            ),
            p!(
                "enabled",
                Boolean,
                "On or off (exhaustcapacity, endpointunreachable). Default: true"
            ),
            p!(
                "ipaddressid",
                Uuid,
                "The public IP whose API endpoint is affected (endpointunreachable)"
            ),
            p!("virtualmachineid", Uuid, "The VM to stop (stopvm)")
        ]]
    ),
    cmd!(
        "listKubernetesClusterOrphans",
        Sync,
        RootAdmin,
        Kubernetes,
        "orphan",
        "cks.api.ListKubernetesClusterOrphansCmd",
        "Lists cloud resources tagged with a Kubernetes cluster that no live cluster owns (leaks)",
        [LIST]
    ),
    // The operator's view of cluster operations.
    cmd!(
        "listAsyncJobSteps",
        Sync,
        Admins,
        Core,
        "asyncjobstep",
        "cks.api.ListAsyncJobStepsCmd",
        "Lists the steps of an asynchronous job that runs a Kubernetes cluster operation, in order, with their state, times, attempts and errors",
        [
            LIST,
            &[
                p!(
                    "jobid",
                    Uuid,
                    "The ID of the asynchronous job (required unless clusterid is given)"
                ),
                p!(
                    "clusterid",
                    Uuid,
                    "The ID of a Kubernetes cluster: the steps of its current or last operation"
                )
            ]
        ]
    ),
    cmd!(
        "retryKubernetesClusterOperation",
        Async,
        Admins,
        Kubernetes,
        "kubernetescluster",
        "cks.api.RetryKubernetesClusterOperationCmd",
        "Runs a Kubernetes cluster's failed or stuck operation again as a new job that keeps the steps already done",
        [&[p!("id", Uuid, required, "The ID of the Kubernetes cluster")]]
    ),
    cmd!(
        "abortKubernetesClusterOperation",
        Sync,
        Admins,
        Kubernetes,
        "kubernetescluster",
        "cks.api.AbortKubernetesClusterOperationCmd",
        "Aborts a Kubernetes cluster's running operation: it stops at its next step, its job fails, and the cluster goes to Alert (or Error for a create whose nodes were never ready)",
        [&[p!("id", Uuid, required, "The ID of the Kubernetes cluster")]]
    ),
];

/// Parameters that authenticate a request rather than describe the command.
const CREDENTIAL_PARAMS: &[&str] = &[
    "apikey",
    "signature",
    "signatureversion",
    "expires",
    "sessionkey",
];

/// Parameters whose values are secrets: a handler seals what it needs of them (a registry
/// password goes into the cluster's sealed secrets) before anything is persisted.
const SECRET_PARAMS: &[&str] = &["password", "dockerregistrypassword", "secretkey"];

/// May a parameter (lowercased name) be written into a job row? Neither the caller's
/// credentials nor secret values are: the database is not where they belong, and a job body
/// never needs them.
pub fn is_persistable(name: &str) -> bool {
    !CREDENTIAL_PARAMS.contains(&name) && !SECRET_PARAMS.contains(&name)
}

/// Looks a command up by its exact (case-sensitive) name, as CloudStack does.
pub fn find(name: &str) -> Option<&'static Command> {
    COMMANDS.iter().find(|c| c.name == name)
}

/// Stage two of a request: parameters checked against the command's declaration.
#[derive(Debug)]
pub struct Bound<'a> {
    pub command: &'static Command,
    raw: &'a RawParams,
}

/// Does `text` look like a CloudStack UUID (8-4-4-4-12 hex digits)?
pub fn is_uuid(text: &str) -> bool {
    let groups: Vec<&str> = text.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, n)| g.len() == n && g.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// Checks required parameters, and the type and bound of every declared parameter that is present.
pub fn bind<'a>(command: &'static Command, raw: &'a RawParams) -> Result<Bound<'a>, ApiError> {
    let cmd = command.name.to_ascii_lowercase();
    let too_long = |max: usize, param: &Param| {
        ApiError::invalid(format!(
            "Value greater than max allowed length {max} for param: {}",
            param.name
        ))
    };
    for param in command.params() {
        if param.kind == ParamType::Map {
            let max = param.max_length().unwrap_or(DEFAULT_MAX_LENGTH);
            let fields = raw.map(param.name).into_iter().flat_map(|m| m.values());
            if fields
                .flat_map(|entry| entry.iter())
                .any(|(k, v)| k.chars().count() > max || v.chars().count() > max)
            {
                return Err(too_long(max, param));
            }
            continue;
        }
        let value = raw.get(param.name).filter(|v| !v.trim().is_empty());
        let Some(value) = value else {
            if param.required {
                return Err(ApiError::MissingParameter {
                    command: cmd,
                    param: param.name.into(),
                });
            }
            continue;
        };
        match param.check(value) {
            Ok(()) => {}
            Err(Rejection::TooLong(max)) => return Err(too_long(max, param)),
            Err(Rejection::Invalid) => {
                return Err(ApiError::InvalidValue {
                    command: cmd,
                    param: param.name.into(),
                    value: value.into(),
                });
            }
        }
    }
    Ok(Bound { command, raw })
}

impl<'a> Bound<'a> {
    pub fn raw(&self) -> &'a RawParams {
        self.raw
    }

    /// A present, non-empty value.
    pub fn str(&self, name: &str) -> Option<&'a str> {
        self.raw.get(name).filter(|v| !v.trim().is_empty())
    }

    /// A required parameter; [`bind`] already proved it is there.
    pub fn req(&self, name: &str) -> &'a str {
        self.str(name).unwrap_or_default()
    }

    pub fn int(&self, name: &str) -> Option<i64> {
        self.str(name).and_then(|v| v.trim().parse().ok())
    }

    pub fn bool(&self, name: &str) -> Option<bool> {
        self.str(name).map(|v| v.eq_ignore_ascii_case("true"))
    }

    pub fn flag(&self, name: &str) -> bool {
        self.bool(name).unwrap_or(false)
    }

    pub fn list(&self, name: &str) -> Option<Vec<&'a str>> {
        self.str(name).map(|v| {
            v.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .collect()
        })
    }

    pub fn map(&self, name: &str) -> Option<&'a MapParam> {
        self.raw.map(name)
    }

    /// The 431 text for an id that names nothing the caller may see.
    pub fn not_found(&self, param: &str) -> ApiError {
        ApiError::InvalidValue {
            command: self.command.name.to_ascii_lowercase(),
            param: param.into(),
            value: self.str(param).unwrap_or_default().into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn simulator_only_commands_are_the_simulated_inventory_and_its_controls() {
        let simulator_only: Vec<&str> = COMMANDS
            .iter()
            .filter(|c| c.availability == Availability::SimulatorOnly)
            .map(|c| c.name)
            .collect();
        for name in [
            "injectSimulatorFault",
            "listHosts",
            "listZones",
            "listVirtualMachines",
        ] {
            assert!(simulator_only.contains(&name), "{name}");
        }
        for name in ["listKubernetesClusters", "createSSHKeyPair", "listApis"] {
            assert!(!simulator_only.contains(&name), "{name}");
        }
        assert!(Availability::SimulatorOnly.on(true));
        assert!(!Availability::SimulatorOnly.on(false));
        assert!(Availability::AnyCloud.on(false));
        assert_eq!(
            ApiError::NotOnThisCloud("listHosts".into()).codes(),
            (432, 9999)
        );
    }

    #[test]
    fn command_names_are_unique_and_params_lowercase() {
        for (i, c) in COMMANDS.iter().enumerate() {
            assert!(
                COMMANDS[i + 1..].iter().all(|o| o.name != c.name),
                "duplicate {}",
                c.name
            );
            for p in c.params() {
                assert_eq!(p.name, p.name.to_ascii_lowercase(), "{}.{}", c.name, p.name);
            }
        }
    }

    #[test]
    fn binding_reports_missing_and_malformed_parameters_like_cloudstack() {
        let cmd = find("updateKubernetesSupportedVersion").unwrap();
        let raw = RawParams::from_pairs([
            ("command", "updateKubernetesSupportedVersion"),
            ("state", "Enabled"),
        ])
        .unwrap();
        assert_eq!(
            bind(cmd, &raw).unwrap_err().to_string(),
            "Unable to execute API command updatekubernetessupportedversion due to missing parameter id"
        );
        let raw = RawParams::from_pairs([("ID", "42"), ("state", "Enabled")]).unwrap();
        let err = bind(cmd, &raw).unwrap_err();
        assert_eq!(err.codes().0, 431);
        assert!(err.to_string().starts_with("Unable to execute API command updatekubernetessupportedversion due to invalid value. Invalid parameter id value=42"));
        let list = find("listZones").unwrap();
        let raw = RawParams::from_pairs([("page", "one")]).unwrap();
        assert!(bind(list, &raw).is_err());
    }

    #[test]
    fn every_numeric_and_string_parameter_has_a_finite_bound() {
        for c in COMMANDS {
            for p in c.params() {
                let at = format!("{}.{}", c.name, p.name);
                match p.kind {
                    ParamType::Integer | ParamType::Long | ParamType::Short => {
                        let (lo, hi) = p.range().expect(&at);
                        assert!(lo <= hi, "{at}: empty range");
                        assert!(!matches!(p.limit, Limit::MaxLength(_)), "{at}");
                    }
                    ParamType::String | ParamType::List | ParamType::Map => {
                        let max = p.max_length().expect(&at);
                        assert!(
                            (1..=crate::userdata::MAX_POST_LENGTH).contains(&max),
                            "{at}: {max}"
                        );
                        assert!(!matches!(p.limit, Limit::Range(..)), "{at}");
                    }
                    // Fixed forms: a UUID, a list of them, true/false, a date.
                    ParamType::Uuid
                    | ParamType::UuidList
                    | ParamType::Boolean
                    | ParamType::Date => {
                        assert_eq!(p.limit, Limit::Default, "{at}");
                    }
                }
            }
        }
    }

    #[test]
    fn every_numeric_parameter_takes_its_range_ends_and_refuses_one_past() {
        for c in COMMANDS {
            for p in c.params() {
                let Some((lo, hi)) = p.range() else { continue };
                let at = format!("{}.{}", c.name, p.name);
                assert_eq!(p.check(&lo.to_string()), Ok(()), "{at}");
                assert_eq!(p.check(&hi.to_string()), Ok(()), "{at}");
                let below = (i128::from(lo) - 1).to_string();
                let above = (i128::from(hi) + 1).to_string();
                assert_eq!(p.check(&below), Err(Rejection::Invalid), "{at} {below}");
                assert_eq!(p.check(&above), Err(Rejection::Invalid), "{at} {above}");
            }
        }
    }

    #[test]
    fn numbers_bind_within_their_java_type_and_declared_range() {
        let bind_one = |command: &str, name: &str, value: &str| {
            let id = "0b5a3f5e-1c2d-4e5f-8a9b-0c1d2e3f4a5b";
            // The required parameters of the commands used here, then the one under test.
            let pairs = [("id", id), ("zoneid", id), ("name", "n"), ("fault", "f")];
            let raw = RawParams::from_pairs(pairs.into_iter().chain([(name, value)])).unwrap();
            bind(find(command).unwrap(), &raw).map(|_| ())
        };
        // Integer is a Java int: 2^31 does not fit, as Integer.valueOf refuses it.
        assert!(bind_one("listZones", "pagesize", "2147483647").is_ok());
        let err = bind_one("listZones", "pagesize", "2147483648").unwrap_err();
        assert_eq!(err.codes().0, 431);
        assert!(err.to_string().starts_with(
            "Unable to execute API command listzones due to invalid value. Invalid parameter pagesize value=2147483648"
        ));
        assert!(bind_one("listZones", "pagesize", "-2147483649").is_err());
        // Short is a Java short.
        assert!(bind_one("listAccounts", "accounttype", "2").is_ok());
        assert!(bind_one("createAccount", "accounttype", "65538").is_err());
        // Long is a Java long: one more does not parse.
        assert!(bind_one("scaleKubernetesCluster", "size", "9223372036854775807").is_ok());
        assert!(bind_one("scaleKubernetesCluster", "size", "9223372036854775808").is_err());
        // A declared range narrows the type's.
        assert!(bind_one("injectSimulatorFault", "count", "-1").is_err());
        assert!(bind_one("createKubernetesCluster", "asnumber", "4294967296").is_err());
        assert!(bind_one("createKubernetesCluster", "asnumber", "65000").is_ok());
    }

    #[test]
    fn strings_and_map_fields_bind_up_to_their_length_like_cloudstack() {
        let cmd = find("createDomain").unwrap();
        let at_limit = "d".repeat(DEFAULT_MAX_LENGTH);
        let raw = RawParams::from_pairs([("name", at_limit.as_str())]).unwrap();
        assert!(bind(cmd, &raw).is_ok());
        let long = "d".repeat(600 * 1024);
        let raw = RawParams::from_pairs([("name", long.as_str())]).unwrap();
        let err = bind(cmd, &raw).unwrap_err();
        assert_eq!(err.codes(), (431, 4350));
        assert_eq!(
            err.to_string(),
            "Value greater than max allowed length 255 for param: name"
        );
        // Characters, not bytes: 255 two-byte characters fit.
        let wide = "é".repeat(DEFAULT_MAX_LENGTH);
        let raw = RawParams::from_pairs([("name", wide.as_str())]).unwrap();
        assert!(bind(cmd, &raw).is_ok());
        // An override widens it.
        let key = "k".repeat(5000);
        let raw = RawParams::from_pairs([("name", "k"), ("publickey", key.as_str())]).unwrap();
        assert!(bind(find("registerSSHKeyPair").unwrap(), &raw).is_ok());
        // Map fields are bound one by one.
        let cluster = find("createKubernetesCluster").unwrap();
        let raw = RawParams::from_pairs([
            ("name", "c"),
            ("zoneid", "0b5a3f5e-1c2d-4e5f-8a9b-0c1d2e3f4a5b"),
            ("cniconfigdetails[0].mtu", long.as_str()),
        ])
        .unwrap();
        assert_eq!(
            bind(cluster, &raw).unwrap_err().to_string(),
            "Value greater than max allowed length 255 for param: cniconfigdetails"
        );
    }

    #[test]
    fn uuids_are_recognised() {
        assert!(is_uuid("0b5a3f5e-1c2d-4e5f-8a9b-0c1d2e3f4a5b"));
        assert!(!is_uuid("0b5a3f5e-1c2d-4e5f-8a9b-0c1d2e3f4a5"));
        assert!(!is_uuid("1"));
    }
}
