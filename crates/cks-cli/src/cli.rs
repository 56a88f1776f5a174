//! The command line's shape (clap derive). Only parsing lives here; see `commands` for behaviour.
//!
//! Every flag that becomes an API parameter says which one in its help (`(API: name)`), and
//! `commands::tests` checks each of them against the server's command table.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Client for the cks Kubernetes service (CloudStack Kubernetes Service API).
///
/// Credentials come from a profile in the config file (`cks config set-profile`), overridden
/// by CKS_URL, CKS_APIKEY and CKS_SECRETKEY. Exit codes: 0 success, 1 the API answered an
/// error (or a name matched nothing), 2 usage or local error, 3 an async job failed, 4 timed
/// out waiting, 5 configuration or connection error.
#[derive(Debug, Parser)]
#[command(name = "cks", version, about, long_about)]
pub struct Cli {
    /// The group (cluster, version, ...) and its subcommand.
    #[command(subcommand)]
    pub command: Command,
}

const GLOBAL: &str = "Global options";

/// Options every subcommand that talks to the API takes, after its group's name
/// (`cks cluster list -o json`). Not global to the whole program: `cks iso build --output` is
/// the image path.
#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Profile of the config file to use [env: CKS_PROFILE; default: the file's
    /// `default_profile`, else `default`].
    #[arg(long, global = true, value_name = "NAME", help_heading = GLOBAL)]
    pub profile: Option<String>,
    /// Config file [env: CKS_CONFIG; default: $XDG_CONFIG_HOME/cks/config.toml or
    /// ~/.config/cks/config.toml].
    #[arg(long, global = true, value_name = "FILE", help_heading = GLOBAL)]
    pub config: Option<PathBuf>,
    /// Output format: `table` for people, `json` (the API's objects) for scripts.
    #[arg(
        short,
        long,
        global = true,
        value_enum,
        default_value_t = OutputFormat::Table,
        help_heading = GLOBAL
    )]
    pub output: OutputFormat,
}

/// How results are printed (`-o`). The variants' docs are for readers: `help = None` keeps them
/// out of `--help`, where the flag's own help already names both.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// Aligned columns with the fields people look at.
    #[value(help = None::<&str>)]
    Table,
    /// The API's objects as JSON, one document.
    #[value(help = None::<&str>)]
    Json,
}

/// The top-level command groups.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Kubernetes clusters.
    Cluster(ClusterArgs),
    /// The Kubernetes version catalog (listKubernetesSupportedVersions and friends).
    Version(VersionArgs),
    /// CNI configurations clusters can be created with.
    Cni(CniArgs),
    /// Async jobs (queryAsyncJobResult).
    Job(JobArgs),
    /// Any API command, checked against the command table: `cks api listZones name=Sim-Zone-1`.
    Api(ApiArgs),
    /// Profiles in the config file.
    Config(ConfigArgs),
    /// Print a shell completion script: `cks completions bash > /etc/bash_completion.d/cks`.
    Completions(CompletionsArgs),
    /// Kubernetes binaries ISOs.
    Iso(IsoArgs),
}

// === Clusters ===

/// `cks cluster ...`.
#[derive(Debug, Args)]
pub struct ClusterArgs {
    /// Profile, config file and output format.
    #[command(flatten)]
    pub global: GlobalArgs,
    /// What to do.
    #[command(subcommand)]
    pub command: ClusterCommand,
}

/// The subcommands of `cks cluster`.
#[derive(Debug, Subcommand)]
pub enum ClusterCommand {
    /// List clusters (listKubernetesClusters).
    List(ClusterListArgs),
    /// Show one cluster, with its nodes.
    Show(ClusterRef),
    /// Create a cluster (createKubernetesCluster).
    Create(Box<ClusterCreateArgs>),
    /// Start a stopped cluster, or repair one in Alert (startKubernetesCluster).
    Start(ClusterOpArgs),
    /// Stop a running cluster (stopKubernetesCluster).
    Stop(ClusterOpArgs),
    /// Delete a cluster and everything it made (deleteKubernetesCluster).
    Delete(ClusterDeleteArgs),
    /// Change the worker count, offerings or autoscaling (scaleKubernetesCluster).
    Scale(ClusterScaleArgs),
    /// Upgrade to a newer Kubernetes version (upgradeKubernetesCluster).
    Upgrade(ClusterUpgradeArgs),
    /// Print the cluster's admin kubeconfig: `cks cluster kubeconfig demo > demo.kubeconfig`.
    Kubeconfig(ClusterRef),
    /// Run the cluster's failed or stuck operation again from its first unfinished step
    /// (retryKubernetesClusterOperation, admins).
    Retry(ClusterOpArgs),
    /// Abort the cluster's running operation at its next step; the cluster goes to Alert, or
    /// Error for a create (abortKubernetesClusterOperation, admins).
    Abort(ClusterRef),
}

/// Filters of `cks cluster list`.
#[derive(Debug, Args)]
pub struct ClusterListArgs {
    /// Only clusters with this name (API: name).
    #[arg(long)]
    pub name: Option<String>,
    /// Only clusters in this state, e.g. Running (API: state).
    #[arg(long)]
    pub state: Option<String>,
    /// Every cluster the caller may see, not only its own account's (API: listall).
    #[arg(long)]
    pub all: bool,
}

/// A cluster by name or id.
#[derive(Debug, Args)]
pub struct ClusterRef {
    /// Cluster name or id.
    #[arg(value_name = "NAME|ID")]
    pub cluster: String,
}

/// How long and whether to follow an async job.
#[derive(Debug, Args)]
pub struct WaitArgs {
    /// Follow the async job until it ends, showing the cluster's current step; the exit code
    /// then says how it ended.
    #[arg(long)]
    pub wait: bool,
    /// Seconds to wait with --wait before giving up (exit 4; the job goes on).
    #[arg(
        long,
        value_name = "SECONDS",
        default_value_t = 1800,
        requires = "wait"
    )]
    pub timeout: u64,
}

/// `cks cluster create`: one flag per createKubernetesCluster parameter.
#[derive(Debug, Args)]
pub struct ClusterCreateArgs {
    /// Cluster name (API: name).
    pub name: String,
    /// Zone name or id (API: zoneid).
    #[arg(long)]
    pub zone: String,
    /// Kubernetes version: semantic version (1.33.1), name or id (API: kubernetesversionid).
    #[arg(long)]
    pub version: String,
    /// Service offering name or id for every node (API: serviceofferingid).
    #[arg(long)]
    pub offering: Option<String>,
    /// Offering per node type, TYPE=OFFERING with TYPE worker, control or etcd; names or ids
    /// (API: nodeofferings).
    #[arg(long = "node-offering", value_name = "TYPE=OFFERING")]
    pub node_offerings: Vec<String>,
    /// Template per node type, TYPE=TEMPLATE_ID (API: nodetemplates).
    #[arg(long = "node-template", value_name = "TYPE=TEMPLATE")]
    pub node_templates: Vec<String>,
    /// Number of worker nodes (API: size).
    #[arg(long)]
    pub size: Option<u32>,
    /// Number of control nodes; more than one makes an HA cluster (API: controlnodes).
    #[arg(long)]
    pub control_nodes: Option<u32>,
    /// Number of separate etcd nodes (API: etcdnodes).
    #[arg(long)]
    pub etcd_nodes: Option<u32>,
    /// Description (API: description).
    #[arg(long)]
    pub description: Option<String>,
    /// Network name or id to launch the cluster in (API: networkid).
    #[arg(long)]
    pub network: Option<String>,
    /// SSH key pair name for the nodes (API: keypair).
    #[arg(long)]
    pub keypair: Option<String>,
    /// Root disk size of each node in GB (API: noderootdisksize).
    #[arg(long, value_name = "GB")]
    pub root_disk_size: Option<u32>,
    /// Hypervisor to deploy on (API: hypervisor).
    #[arg(long)]
    pub hypervisor: Option<String>,
    /// CNI configuration name or id (API: cniconfigurationid).
    #[arg(long)]
    pub cni_config: Option<String>,
    /// A value for a variable of the CNI configuration, KEY=VALUE (API: cniconfigdetails).
    #[arg(long = "cni-detail", value_name = "KEY=VALUE")]
    pub cni_details: Vec<String>,
    /// Set up the CloudStack CSI driver (API: enablecsi).
    #[arg(long)]
    pub enable_csi: bool,
    /// External load balancer IP for an HA cluster on a shared network
    /// (API: externalloadbalanceripaddress).
    #[arg(long, value_name = "IP")]
    pub external_lb_ip: Option<String>,
    /// Private registry URL (API: dockerregistryurl).
    #[arg(long, value_name = "URL")]
    pub docker_registry_url: Option<String>,
    /// Private registry user (API: dockerregistryusername).
    #[arg(long, value_name = "USER")]
    pub docker_registry_username: Option<String>,
    /// Private registry password (API: dockerregistrypassword).
    #[arg(long, value_name = "PASSWORD")]
    pub docker_registry_password: Option<String>,
    /// Account to create the cluster for (with --domain-id) (API: account).
    #[arg(long)]
    pub account: Option<String>,
    /// Domain of --account (API: domainid).
    #[arg(long)]
    pub domain_id: Option<String>,
    /// Project to create the cluster in (API: projectid).
    #[arg(long)]
    pub project_id: Option<String>,
    /// Whether to follow the create job.
    #[command(flatten)]
    pub wait: WaitArgs,
}

/// A cluster and how to wait for the job (start, stop, retry).
#[derive(Debug, Args)]
pub struct ClusterOpArgs {
    /// The cluster.
    #[command(flatten)]
    pub cluster: ClusterRef,
    /// Whether to follow the job.
    #[command(flatten)]
    pub wait: WaitArgs,
}

/// `cks cluster delete`.
#[derive(Debug, Args)]
pub struct ClusterDeleteArgs {
    /// The cluster.
    #[command(flatten)]
    pub cluster: ClusterRef,
    /// Destroy the attached instances of an ExternalManaged cluster (API: cleanup).
    #[arg(long)]
    pub cleanup: bool,
    /// Expunge the attached instances of an ExternalManaged cluster (API: expunge).
    #[arg(long)]
    pub expunge: bool,
    /// Admins: delete from any state, aborting a running operation instead of waiting for it
    /// (API: forced).
    #[arg(long)]
    pub force: bool,
    /// Whether to follow the delete job.
    #[command(flatten)]
    pub wait: WaitArgs,
}

/// `cks cluster scale`: what to change; flags left out stay as they are.
#[derive(Debug, Args)]
pub struct ClusterScaleArgs {
    /// The cluster.
    #[command(flatten)]
    pub cluster: ClusterRef,
    /// New number of worker nodes (API: size).
    #[arg(long)]
    pub size: Option<u32>,
    /// Service offering name or id for every node (API: serviceofferingid).
    #[arg(long)]
    pub offering: Option<String>,
    /// Offering per node type, TYPE=OFFERING (API: nodeofferings).
    #[arg(long = "node-offering", value_name = "TYPE=OFFERING")]
    pub node_offerings: Vec<String>,
    /// Remove this worker VM (id); repeat for several (API: nodeids).
    #[arg(long = "remove-node", value_name = "VM_ID")]
    pub remove_nodes: Vec<String>,
    /// Turn the cluster autoscaler on or off (API: autoscalingenabled).
    #[arg(long, value_name = "BOOL")]
    pub autoscaling: Option<bool>,
    /// Autoscaler's minimum worker count (API: minsize).
    #[arg(long)]
    pub min_size: Option<u32>,
    /// Autoscaler's maximum worker count (API: maxsize).
    #[arg(long)]
    pub max_size: Option<u32>,
    /// Whether to follow the scale job.
    #[command(flatten)]
    pub wait: WaitArgs,
}

/// `cks cluster upgrade`.
#[derive(Debug, Args)]
pub struct ClusterUpgradeArgs {
    /// The cluster.
    #[command(flatten)]
    pub cluster: ClusterRef,
    /// Target version: semantic version, name or id (API: kubernetesversionid).
    #[arg(long)]
    pub version: String,
    /// Whether to follow the upgrade job.
    #[command(flatten)]
    pub wait: WaitArgs,
}

// === Versions ===

/// `cks version ...`.
#[derive(Debug, Args)]
pub struct VersionArgs {
    /// Profile, config file and output format.
    #[command(flatten)]
    pub global: GlobalArgs,
    /// What to do.
    #[command(subcommand)]
    pub command: VersionCommand,
}

/// The subcommands of `cks version`.
#[derive(Debug, Subcommand)]
pub enum VersionCommand {
    /// List supported versions (listKubernetesSupportedVersions).
    List(VersionListArgs),
    /// Add a version with its binaries ISO (addKubernetesSupportedVersion, root admin).
    Add(VersionAddArgs),
    /// Enable or disable a version (updateKubernetesSupportedVersion, root admin).
    Update(VersionUpdateArgs),
    /// Delete a version (deleteKubernetesSupportedVersion, root admin).
    Delete(VersionDeleteArgs),
}

/// Filters of `cks version list`.
#[derive(Debug, Args)]
pub struct VersionListArgs {
    /// Only versions available in this zone (name or id) (API: zoneid).
    #[arg(long)]
    pub zone: Option<String>,
    /// Only versions at least this one, e.g. 1.33.0 (API: minimumsemanticversion).
    #[arg(long, value_name = "SEMVER")]
    pub min_version: Option<String>,
}

/// `cks version add`: one flag per addKubernetesSupportedVersion parameter.
#[derive(Debug, Args)]
pub struct VersionAddArgs {
    /// MAJOR.MINOR.PATCH (API: semanticversion).
    #[arg(long = "semver", value_name = "SEMVER")]
    pub semantic_version: String,
    /// Display name (API: name).
    #[arg(long)]
    pub name: Option<String>,
    /// Minimum vCPUs a node offering needs (API: mincpunumber).
    #[arg(long, default_value_t = 2)]
    pub min_cpu: u32,
    /// Minimum memory in MiB a node offering needs (API: minmemory).
    #[arg(long, value_name = "MIB", default_value_t = 2048)]
    pub min_memory: u32,
    /// Zone name or id; all zones when absent (API: zoneid).
    #[arg(long)]
    pub zone: Option<String>,
    /// URL of the binaries ISO (`cks iso build` makes one) (API: url).
    #[arg(long)]
    pub url: Option<String>,
    /// The ISO's checksum, e.g. {SHA-256}hex (API: checksum).
    #[arg(long)]
    pub checksum: Option<String>,
    /// Download the ISO straight to primary storage (API: directdownload).
    #[arg(long)]
    pub direct_download: bool,
    /// CPU architecture: x86_64 or aarch64 (API: arch).
    #[arg(long)]
    pub arch: Option<String>,
}

/// `cks version update`.
#[derive(Debug, Args)]
pub struct VersionUpdateArgs {
    /// Version: semantic version, name or id.
    #[arg(value_name = "VERSION")]
    pub version: String,
    /// Enabled or Disabled (API: state).
    #[arg(long)]
    pub state: String,
}

/// `cks version delete`.
#[derive(Debug, Args)]
pub struct VersionDeleteArgs {
    /// Version: semantic version, name or id.
    #[arg(value_name = "VERSION")]
    pub version: String,
    /// Whether to follow the delete job.
    #[command(flatten)]
    pub wait: WaitArgs,
}

// === CNI configurations ===

/// `cks cni ...`.
#[derive(Debug, Args)]
pub struct CniArgs {
    /// Profile, config file and output format.
    #[command(flatten)]
    pub global: GlobalArgs,
    /// What to do.
    #[command(subcommand)]
    pub command: CniCommand,
}

/// The subcommands of `cks cni`.
#[derive(Debug, Subcommand)]
pub enum CniCommand {
    /// List CNI configurations (listCniConfiguration).
    List(CniListArgs),
    /// Register a CNI configuration (registerCniConfiguration).
    Register(CniRegisterArgs),
    /// Delete a CNI configuration (deleteCniConfiguration).
    Delete(CniRef),
}

/// Filters of `cks cni list`.
#[derive(Debug, Args)]
pub struct CniListArgs {
    /// Only configurations with this name (API: name).
    #[arg(long)]
    pub name: Option<String>,
}

/// `cks cni register`.
#[derive(Debug, Args)]
pub struct CniRegisterArgs {
    /// Name (API: name).
    pub name: String,
    /// File with the configuration (cloud-init user data) (API: cniconfig).
    #[arg(long, value_name = "FILE")]
    pub file: PathBuf,
    /// Comma-separated variables the configuration declares (API: params).
    #[arg(long)]
    pub params: Option<String>,
}

/// A CNI configuration by name or id.
#[derive(Debug, Args)]
pub struct CniRef {
    /// CNI configuration name or id.
    #[arg(value_name = "NAME|ID")]
    pub cni: String,
}

// === Jobs, the generic API, config, completions ===

/// `cks job ...`.
#[derive(Debug, Args)]
pub struct JobArgs {
    /// Profile, config file and output format.
    #[command(flatten)]
    pub global: GlobalArgs,
    /// What to do.
    #[command(subcommand)]
    pub command: JobCommand,
}

/// The subcommands of `cks job`.
#[derive(Debug, Subcommand)]
pub enum JobCommand {
    /// Show a job as queryAsyncJobResult returns it.
    Show(JobRef),
    /// Wait for a job to end; exits 3 if it failed.
    Wait(JobWaitArgs),
    /// List the steps of a cluster operation's job in order (listAsyncJobSteps, admins).
    Steps(JobRef),
}

/// An async job by id.
#[derive(Debug, Args)]
pub struct JobRef {
    /// Job id.
    pub jobid: String,
}

/// `cks job wait`.
#[derive(Debug, Args)]
pub struct JobWaitArgs {
    /// Job id.
    pub jobid: String,
    /// Seconds to wait before giving up (exit 4).
    #[arg(long, value_name = "SECONDS", default_value_t = 1800)]
    pub timeout: u64,
}

/// `cks api`: any command by name, or `--describe`/`--list`.
#[derive(Debug, Args)]
pub struct ApiArgs {
    /// Profile, config file and output format.
    #[command(flatten)]
    pub global: GlobalArgs,
    /// Command name, as CloudStack spells it (listZones).
    #[arg(value_name = "COMMAND", required_unless_present = "list")]
    pub command: Option<String>,
    /// Parameters as KEY=VALUE; maps as `name[0].key=value`.
    #[arg(value_name = "KEY=VALUE")]
    pub params: Vec<String>,
    /// Print the command's parameters (from the command table) instead of calling it.
    #[arg(long)]
    pub describe: bool,
    /// List the commands the server answers.
    #[arg(long, conflicts_with_all = ["command", "describe"])]
    pub list: bool,
    /// Whether to follow the job of an async command.
    #[command(flatten)]
    pub wait: WaitArgs,
}

/// `cks config ...`.
#[derive(Debug, Args)]
pub struct ConfigArgs {
    /// Profile, config file and output format.
    #[command(flatten)]
    pub global: GlobalArgs,
    /// What to do.
    #[command(subcommand)]
    pub command: ConfigCommand,
}

/// The subcommands of `cks config`.
#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Write a profile to the config file (created with mode 0600).
    SetProfile(SetProfileArgs),
    /// Show the endpoint and key the other commands would use (never the secret key).
    Show,
}

/// `cks config set-profile`.
#[derive(Debug, Args)]
pub struct SetProfileArgs {
    /// Profile name.
    pub name: String,
    /// API endpoint, e.g. http://127.0.0.1:8080/client/api (`/client/api` is added to a bare
    /// host).
    #[arg(long)]
    pub url: String,
    /// API key.
    #[arg(long)]
    pub apikey: String,
    /// Secret key.
    #[arg(long)]
    pub secretkey: String,
    /// Make this the file's default profile.
    #[arg(long)]
    pub default: bool,
}

/// `cks completions`.
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// Shell to write the script for.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

// === ISOs ===

/// `cks iso ...` (local: needs no API).
#[derive(Debug, Args)]
pub struct IsoArgs {
    /// What to do.
    #[command(subcommand)]
    pub command: IsoCommand,
}

/// The subcommands of `cks iso`.
#[derive(Debug, Subcommand)]
pub enum IsoCommand {
    /// Build the binaries ISO nodes install from offline; prints its sha256 on the last line.
    Build(IsoBuildArgs),
}

/// `cks iso build`.
#[derive(Debug, Args)]
pub struct IsoBuildArgs {
    /// Input directory, laid out like the ISO: k8s/{kubeadm,kubelet,kubectl}, cni/*.tgz,
    /// cri-tools/*.tar.gz, docker/*.tar, network.yaml, dashboard.yaml, optional provider.yaml,
    /// autoscaler.yaml, snapshot-crds.yaml, manifest.yaml and etcd/*.tar.gz.
    #[arg(long, value_name = "DIR")]
    pub from: PathBuf,
    /// Where to write the image (replaced atomically).
    #[arg(long, value_name = "FILE.iso")]
    pub output: PathBuf,
    /// Kubernetes version the binaries belong to (recorded in the manifest), e.g. 1.33.1.
    #[arg(long, value_name = "V")]
    pub kubernetes_version: Option<String>,
    /// etcd version of etcd/*.tar.gz (required to be present when given), e.g. 3.5.21.
    #[arg(long, value_name = "V")]
    pub etcd_version: Option<String>,
    /// Download missing inputs into --from first: a TOML file of [[file]] entries with `url`,
    /// `sha256` and `path` (relative to --from). Every download is checked against its sha256.
    #[arg(long, value_name = "SOURCES.toml")]
    pub fetch: Option<PathBuf>,
    /// The xorriso program that writes the image.
    #[arg(long, value_name = "PATH", default_value = "xorriso")]
    pub xorriso: PathBuf,
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn iso_build_flags() {
        let cli = Cli::parse_from([
            "cks",
            "iso",
            "build",
            "--from",
            "in",
            "--output",
            "out.iso",
            "--kubernetes-version",
            "1.33.1",
            "--etcd-version",
            "3.5.21",
        ]);
        let Command::Iso(IsoArgs {
            command: IsoCommand::Build(args),
        }) = cli.command
        else {
            panic!("not iso build");
        };
        assert_eq!(args.from, PathBuf::from("in"));
        assert_eq!(args.kubernetes_version.as_deref(), Some("1.33.1"));
        assert_eq!(args.xorriso, PathBuf::from("xorriso"));
    }

    #[test]
    fn create_flags() {
        let cli = Cli::try_parse_from([
            "cks",
            "cluster",
            "create",
            "demo",
            "--zone",
            "Sim-Zone-1",
            "--version",
            "1.32.4",
            "--offering",
            "CKS Node",
            "--size",
            "2",
            "--wait",
            "-o",
            "json",
        ])
        .unwrap();
        let Command::Cluster(ClusterArgs {
            global,
            command: ClusterCommand::Create(args),
        }) = cli.command
        else {
            panic!("not cluster create");
        };
        assert_eq!(global.output, OutputFormat::Json);
        assert_eq!(args.name, "demo");
        assert_eq!(args.size, Some(2));
        assert!(args.wait.wait);
    }

    #[test]
    fn timeout_needs_wait() {
        let err = Cli::try_parse_from(["cks", "cluster", "start", "x", "--timeout", "5"]);
        assert!(err.is_err());
    }
}
