//! Clusters built the way the orchestrator builds them (network, source NAT IP, firewall, port
//! forwards or a load balancer, VMs with cks-bootstrap's user data, the binaries ISO), then used
//! with the real kubectl against the endpoint the simulator serves on the public IP.
//!
//! Every test gets its own simulator with its own loopback range (`free_range`), since every
//! endpoint listens on port 6443 and tests run in parallel with other test processes.

use std::net::{IpAddr, SocketAddrV4};
use std::path::PathBuf;
use std::process::Output;

use cks_bootstrap::{
    BootstrapToken, CertificateKey, ClusterBootstrap, ClusterPki, InstallSettings, NodeIdentity,
    NodeUserData, PkiSpec, admin_kubeconfig,
};
use cks_core::iaas::{PublicIp, Vm};

use super::*;

// === Harness ===

/// A /27-sized loopback range whose first addresses have port 6443 free right now.
pub(crate) fn free_range() -> (Ipv4Addr, Ipv4Addr) {
    for _ in 0..100 {
        let bytes = *uuid::Uuid::new_v4().as_bytes();
        let (a, b) = (20 + bytes[0] % 230, bytes[1]);
        let start = Ipv4Addr::new(127, a, b, 2);
        let free = (0..8u8)
            .all(|i| std::net::TcpListener::bind((Ipv4Addr::new(127, a, b, 2 + i), 6443)).is_ok());
        if free {
            return (start, Ipv4Addr::new(127, a, b, 30));
        }
    }
    panic!("no free loopback range for port 6443");
}

pub(crate) async fn kube_env() -> Env {
    env_in(Some(free_range()), Timings::instant()).await
}

const VERSION: &str = "1.32.4";

pub(crate) struct Shape {
    pub(crate) name: &'static str,
    pub(crate) controls: usize,
    pub(crate) workers: usize,
}

/// A cluster as the orchestrator leaves it after create.
pub(crate) struct TestCluster {
    pub(crate) network: String,
    pub(crate) ip: PublicIp,
    pub(crate) controls: Vec<Vm>,
    pub(crate) workers: Vec<Vm>,
    pub(crate) iso: String,
    pub(crate) bootstrap: ClusterBootstrap,
    pub(crate) pki: ClusterPki,
    pub(crate) token: BootstrapToken,
    pub(crate) kubeconfig: String,
}

impl TestCluster {
    pub(crate) fn endpoint(&self) -> SocketAddrV4 {
        SocketAddrV4::new(self.ip.address, 6443)
    }

    /// Base64 user data of another worker joining through `api_server`.
    pub(crate) fn worker_user_data(&self, name: &str, api_server: Ipv4Addr) -> String {
        let nodes = NodeUserData::new(&self.bootstrap, &self.pki).expect("node user data");
        let doc = nodes
            .worker(name, IpAddr::V4(api_server), &self.token)
            .expect("worker user data");
        base64::Engine::encode(&base64::engine::general_purpose::STANDARD, doc)
    }
}

fn b64(text: &str) -> String {
    base64::Engine::encode(&base64::engine::general_purpose::STANDARD, text)
}

pub(crate) async fn network_with_endpoint(
    sim: &Simulator,
    who: &Owner,
    name: &str,
) -> (String, PublicIp) {
    let c = catalog(sim);
    let mut spec = network_spec(&c, name, who);
    spec.tags = tags(name);
    let network = sim.create_network(&spec).await.expect("network");
    sim.implement_network(&network.id).await.expect("implement");
    let ip = sim
        .find_source_nat_ip(&network.id)
        .await
        .expect("source nat")
        .expect("an implemented network has a source NAT IP");
    (network.id, ip)
}

pub(crate) async fn open_firewall(sim: &Simulator, ip: &PublicIp, start: u16, end: u16) -> String {
    sim.create_firewall_rule(&FirewallRuleSpec {
        ip_id: ip.id.clone(),
        protocol: Protocol::Tcp,
        start_port: Some(start),
        end_port: Some(end),
        cidrs: vec![],
        tags: Tags::new(),
    })
    .await
    .expect("firewall rule")
    .id
}

pub(crate) async fn forward(
    sim: &Simulator,
    ip: &PublicIp,
    public: u16,
    private: u16,
    vm: &str,
) -> String {
    sim.create_port_forwarding_rule(&PortForwardingSpec {
        ip_id: ip.id.clone(),
        protocol: Protocol::Tcp,
        public_start_port: public,
        public_end_port: None,
        private_start_port: private,
        private_end_port: None,
        vm_id: vm.into(),
        cidrs: vec![],
        tags: Tags::new(),
    })
    .await
    .expect("port forwarding rule")
    .id
}

pub(crate) async fn ready_iso(sim: &Simulator, who: &Owner, name: &str) -> String {
    let iso = sim.register_iso(&iso_spec(name, who)).await.expect("iso");
    wait_iso_ready(sim, &iso.id).await.id
}

/// Builds a cluster of `shape` in a new network, as the orchestrator does, and waits for it.
pub(crate) async fn build(sim: &Simulator, shape: Shape) -> TestCluster {
    let who = owner("kube");
    let c = catalog(sim);
    let (network, ip) = network_with_endpoint(sim, &who, shape.name).await;
    open_firewall(sim, &ip, 6443, 6443).await;
    open_firewall(sim, &ip, 2222, 2222 + 10).await;
    let control_ips: Vec<Ipv4Addr> = (0..shape.controls)
        .map(|i| Ipv4Addr::new(10, 1, 1, 10 + i as u8))
        .collect();
    let bootstrap = ClusterBootstrap {
        cluster_name: shape.name.into(),
        cluster_id: format!("0c7d9f6e-1111-4222-8333-{:012}", shape.name.len()),
        kubernetes_version: VERSION.parse().unwrap(),
        endpoint_ip: IpAddr::V4(ip.address),
        control_nodes: control_ips
            .iter()
            .enumerate()
            .map(|(i, a)| {
                NodeIdentity::new(format!("{}-control-{}", shape.name, i + 1), IpAddr::V4(*a))
            })
            .collect(),
        etcd_nodes: vec![],
        ssh_public_keys: vec!["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJ7s1mEH1mB1m0m7V4l4H5kqv7n3kXo0lYpQw6Z3i0Yp cloud@cks".into()],
        registry: None,
        pod_cidr: "10.244.0.0/16".parse().unwrap(),
        service_cidr: "10.96.0.0/12".parse().unwrap(),
        cni: None,
        cloud_provider: None,
        metadata_addresses: vec![],
        install: InstallSettings::default(),
    };
    let pki = ClusterPki::generate(&PkiSpec::for_cluster(
        &bootstrap,
        time::OffsetDateTime::now_utc(),
    ))
    .expect("pki");
    let token = BootstrapToken::generate(time::Duration::hours(2)).unwrap();
    let key = CertificateKey::generate().unwrap();
    let nodes = NodeUserData::new(&bootstrap, &pki).expect("node user data");
    let iso = ready_iso(sim, &who, &format!("{}-binaries", shape.name)).await;
    let mut controls = Vec::new();
    for (i, guest_ip) in control_ips.iter().enumerate() {
        let user_data = match i {
            0 => nodes.first_control_node(&token, (shape.controls > 1).then_some(&key)),
            i => nodes.additional_control_node(i, &token, &key),
        }
        .expect("control user data");
        let mut spec = vm_spec(
            &c,
            &network,
            &bootstrap.control_nodes[i].name,
            &c.node,
            &who,
        );
        spec.user_data = Some(b64(&user_data));
        spec.ip_address = Some(*guest_ip);
        controls.push(sim.deploy_vm(&spec).await.expect("control VM"));
    }
    let mut workers = Vec::new();
    for i in 0..shape.workers {
        let name = format!("{}-node-{}", shape.name, i + 1);
        let doc = nodes
            .worker(&name, IpAddr::V4(control_ips[0]), &token)
            .expect("worker user data");
        let mut spec = vm_spec(&c, &network, &name, &c.node, &who);
        spec.user_data = Some(b64(&doc));
        workers.push(sim.deploy_vm(&spec).await.expect("worker VM"));
    }
    match shape.controls {
        1 => {
            forward(sim, &ip, 6443, 6443, &controls[0].id).await;
        }
        _ => {
            let rule = sim
                .create_load_balancer_rule(&LoadBalancerSpec {
                    name: format!("{}-api", shape.name),
                    description: None,
                    ip_id: ip.id.clone(),
                    public_port: 6443,
                    private_port: 6443,
                    algorithm: LbAlgorithm::RoundRobin,
                    protocol: LbProtocol::Tcp,
                    cidrs: vec![],
                    tags: Tags::new(),
                })
                .await
                .expect("load balancer rule");
            let ids: Vec<String> = controls.iter().map(|vm| vm.id.clone()).collect();
            sim.assign_to_load_balancer_rule(&rule.id, &ids)
                .await
                .expect("assign");
        }
    }
    for (i, vm) in controls.iter().chain(&workers).enumerate() {
        forward(sim, &ip, 2222 + i as u16, 22, &vm.id).await;
        sim.attach_iso(&vm.id, &iso).await.expect("attach ISO");
    }
    settle(sim).await;
    let kubeconfig =
        admin_kubeconfig(&pki, shape.name, IpAddr::V4(ip.address)).expect("kubeconfig");
    TestCluster {
        network,
        ip,
        controls,
        workers,
        iso,
        bootstrap,
        pki,
        token,
        kubeconfig,
    }
}

pub(crate) async fn settle(sim: &Simulator) {
    tokio::time::timeout(Duration::from_secs(10), sim.settle())
        .await
        .expect("the simulator did not settle");
}

/// The real kubectl with a kubeconfig, a private HOME and a clean environment.
pub(crate) struct Kubectl {
    home: TempDir,
    config: PathBuf,
}

impl Kubectl {
    pub(crate) fn new(kubeconfig: &str) -> Kubectl {
        let home = tempfile::tempdir().expect("tempdir");
        let config = home.path().join("kubeconfig");
        std::fs::write(&config, kubeconfig).expect("write kubeconfig");
        Kubectl { home, config }
    }

    pub(crate) async fn run(&self, args: &[&str]) -> Output {
        let cmd = tokio::process::Command::new("/usr/bin/kubectl")
            .env_clear()
            .env("HOME", self.home.path())
            .env("PATH", "/usr/bin:/bin")
            .arg("--kubeconfig")
            .arg(&self.config)
            .arg("--request-timeout=10s")
            .args(args)
            .kill_on_drop(true)
            .output();
        tokio::time::timeout(Duration::from_secs(60), cmd)
            .await
            .expect("kubectl hung")
            .expect("kubectl (v1.32) is installed at /usr/bin/kubectl")
    }

    /// Runs kubectl, which must succeed; returns its standard output.
    pub(crate) async fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args).await;
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            out.status.success(),
            "kubectl {args:?} failed:\n{stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        stdout
    }

    /// Runs kubectl, which must fail; returns its standard error.
    pub(crate) async fn fails(&self, args: &[&str]) -> String {
        let out = self.run(args).await;
        assert!(
            !out.status.success(),
            "kubectl {args:?} should have failed:\n{}",
            String::from_utf8_lossy(&out.stdout)
        );
        String::from_utf8_lossy(&out.stderr).into_owned()
    }
}

/// `kubectl get nodes` as (name, status, roles, version) rows.
async fn node_rows(kubectl: &Kubectl) -> Vec<(String, String, String, String)> {
    let out = kubectl.ok(&["get", "nodes", "--no-headers"]).await;
    out.lines()
        .map(|line| {
            let cols: Vec<&str> = line.split_whitespace().collect();
            assert_eq!(cols.len(), 5, "NAME STATUS ROLES AGE VERSION: {line}");
            (
                cols[0].into(),
                cols[1].into(),
                cols[2].into(),
                cols[4].into(),
            )
        })
        .collect()
}

fn row(name: &str, status: &str, roles: &str, version: &str) -> (String, String, String, String) {
    (name.into(), status.into(), roles.into(), version.into())
}

async fn refused(addr: SocketAddrV4) -> bool {
    matches!(
        tokio::net::TcpStream::connect(addr).await,
        Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused
    )
}

async fn server_version(kubectl: &Kubectl) -> String {
    let out = kubectl.ok(&["version", "-o", "json"]).await;
    let v: serde_json::Value = serde_json::from_str(&out).expect("version JSON");
    v["serverVersion"]["gitVersion"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

fn argv(args: &[&str]) -> Vec<String> {
    args.iter().map(|s| s.to_string()).collect()
}

// === Tests ===

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_lists_the_nodes_of_a_running_cluster() {
    let env = kube_env().await;
    let cluster = build(
        &env.sim,
        Shape {
            name: "alpha",
            controls: 1,
            workers: 2,
        },
    )
    .await;
    assert_eq!(env.sim.listening_endpoints(), vec![cluster.endpoint()]);
    let kubectl = Kubectl::new(&cluster.kubeconfig);

    let header = kubectl.ok(&["get", "nodes"]).await;
    assert!(
        header.starts_with("NAME")
            && header.contains("STATUS")
            && header.contains("ROLES")
            && header.contains("VERSION"),
        "{header}"
    );
    assert_eq!(
        node_rows(&kubectl).await,
        vec![
            row("alpha-control-1", "Ready", "control-plane", "v1.32.4"),
            row("alpha-node-1", "Ready", "<none>", "v1.32.4"),
            row("alpha-node-2", "Ready", "<none>", "v1.32.4"),
        ]
    );
    let wide = kubectl.ok(&["get", "nodes", "-o", "wide"]).await;
    assert!(
        wide.contains("INTERNAL-IP") && wide.contains("10.1.1.10"),
        "{wide}"
    );
    assert!(wide.contains("containerd://"), "{wide}");
    assert_eq!(server_version(&kubectl).await, "v1.32.4");

    let pods = kubectl.ok(&["get", "pods", "-A"]).await;
    for name in [
        "kube-apiserver-alpha-control-1",
        "etcd-alpha-control-1",
        "kube-proxy-",
        "coredns-",
        "kubernetes-dashboard-",
    ] {
        assert!(pods.contains(name), "no {name} in:\n{pods}");
    }
    let dashboard = kubectl
        .ok(&["get", "pods", "-n", "kubernetes-dashboard", "--no-headers"])
        .await;
    assert!(dashboard.contains("Running"), "{dashboard}");
    let on_node = kubectl
        .ok(&[
            "get",
            "pods",
            "-A",
            "--field-selector",
            "spec.nodeName=alpha-node-1",
            "-o",
            "name",
        ])
        .await;
    assert!(on_node.contains("pod/kube-proxy-"), "{on_node}");
    assert!(!on_node.contains("kube-apiserver"), "{on_node}");
    let namespaces = kubectl.ok(&["get", "namespaces"]).await;
    assert!(
        namespaces.contains("kube-system") && namespaces.contains("Active"),
        "{namespaces}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_client_certificate_only_version_and_health_answer() {
    let env = kube_env().await;
    let cluster = build(
        &env.sim,
        Shape {
            name: "anon",
            controls: 1,
            workers: 0,
        },
    )
    .await;
    // A token, not a certificate: the simulated API server only trusts client certificates.
    let ca = format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: https://{}\n    certificate-authority-data: {}\nusers:\n- name: nobody\n  user: {{token: not-a-client-certificate}}\ncontexts:\n- name: c\n  context: {{cluster: c, user: nobody}}\ncurrent-context: c\n",
        cluster.endpoint(),
        b64(&cluster.pki.kubernetes_ca.cert_pem)
    );
    let anonymous = Kubectl::new(&ca);
    assert_eq!(server_version(&anonymous).await, "v1.32.4");
    let health = anonymous.ok(&["get", "--raw", "/healthz"]).await;
    assert_eq!(health, "ok");
    let err = anonymous.fails(&["get", "nodes"]).await;
    assert!(err.contains("You must be logged in to the server"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_endpoint_is_refused_while_it_is_down_and_comes_back() {
    let env = kube_env().await;
    let sim = &env.sim;
    let cluster = build(
        sim,
        Shape {
            name: "beta",
            controls: 1,
            workers: 1,
        },
    )
    .await;
    let kubectl = Kubectl::new(&cluster.kubeconfig);
    let endpoint = cluster.endpoint();
    assert!(!refused(endpoint).await);

    // An injected fault.
    let fault = |unreachable| Fault::EndpointUnreachable {
        public_ip_id: cluster.ip.id.clone(),
        unreachable,
    };
    sim.inject(fault(true)).await.unwrap();
    assert!(refused(endpoint).await, "the fault must refuse connections");
    let err = kubectl.fails(&["get", "nodes"]).await;
    assert!(err.contains("connection refused"), "{err}");
    sim.inject(fault(false)).await.unwrap();
    assert_eq!(node_rows(&kubectl).await.len(), 2);
    sim.inject(fault(true)).await.unwrap();
    sim.clear_faults();
    assert!(
        !refused(endpoint).await,
        "clearing faults brings the endpoint back"
    );

    // The control VM stops behind the service's back: nothing serves the API.
    let control = cluster.controls[0].id.clone();
    sim.inject(Fault::StopVm {
        vm_id: control.clone(),
    })
    .await
    .unwrap();
    assert!(
        refused(endpoint).await,
        "a stopped control node serves nothing"
    );
    sim.start_vm(&control).await.unwrap();
    assert_eq!(
        node_rows(&kubectl).await,
        vec![
            row("beta-control-1", "Ready", "control-plane", "v1.32.4"),
            row("beta-node-1", "Ready", "<none>", "v1.32.4"),
        ],
        "a restarted node is still installed"
    );

    // A stopped worker is NotReady, not gone.
    sim.stop_vm(&cluster.workers[0].id, false).await.unwrap();
    assert_eq!(
        node_rows(&kubectl).await[1],
        row("beta-node-1", "NotReady", "<none>", "v1.32.4")
    );
    sim.start_vm(&cluster.workers[0].id).await.unwrap();

    // Without the ingress rule for 6443 the isolated network drops the traffic.
    let rules = sim.firewall_rules_on_ip(&cluster.ip.id).await.unwrap();
    let api_rule = rules.iter().find(|r| r.start_port == Some(6443)).unwrap();
    sim.delete_firewall_rule(&api_rule.id).await.unwrap();
    assert!(refused(endpoint).await, "no firewall rule, no endpoint");
    open_firewall(sim, &cluster.ip, 6000, 7000).await;
    assert!(!refused(endpoint).await);

    // Without the port forward there is nothing to reach.
    let forwards = sim
        .port_forwarding_rules_on_ip(&cluster.ip.id)
        .await
        .unwrap();
    let api_forward = forwards
        .iter()
        .find(|r| r.private_start_port == 6443)
        .unwrap();
    sim.delete_port_forwarding_rule(&api_forward.id)
        .await
        .unwrap();
    assert!(refused(endpoint).await);
    forward(sim, &cluster.ip, 6443, 6443, &control).await;
    assert_eq!(node_rows(&kubectl).await.len(), 2);
    assert_eq!(sim.listening_endpoints(), vec![endpoint]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_on_node_upgrades_the_control_plane_then_the_workers() {
    let env = kube_env().await;
    let sim = &env.sim;
    let cluster = build(
        sim,
        Shape {
            name: "gamma",
            controls: 1,
            workers: 1,
        },
    )
    .await;
    let kubectl = Kubectl::new(&cluster.kubeconfig);
    let control = &cluster.controls[0].id;
    let worker = &cluster.workers[0].id;
    let upgrade = argv(&["sudo", "/opt/cks/bin/cks-upgrade", "1.33.1"]);

    let err = sim.run_on_node(worker, &upgrade).await.unwrap_err();
    assert!(
        err.to_string().contains("upgrade the first control node"),
        "{err}"
    );
    let skip = argv(&["sudo", "/opt/cks/bin/cks-upgrade", "1.34.0"]);
    let err = sim.run_on_node(control, &skip).await.unwrap_err();
    assert!(
        err.to_string().contains("only 1 minor version at a time"),
        "{err}"
    );

    let out = sim
        .run_on_node(control, &upgrade)
        .await
        .expect("upgrade the control node");
    assert!(out.contains("v1.33.1"), "{out}");
    assert_eq!(server_version(&kubectl).await, "v1.33.1");
    sim.run_on_node(worker, &upgrade)
        .await
        .expect("upgrade the worker");
    assert_eq!(
        node_rows(&kubectl).await,
        vec![
            row("gamma-control-1", "Ready", "control-plane", "v1.33.1"),
            row("gamma-node-1", "Ready", "<none>", "v1.33.1"),
        ]
    );

    // Idempotent, even once the ISO is gone; a new version needs the ISO again.
    sim.detach_iso(worker).await.unwrap();
    let again = sim
        .run_on_node(worker, &upgrade)
        .await
        .expect("same version again");
    assert!(again.contains("already at v1.33.1"), "{again}");
    let newer = argv(&["sudo", "/opt/cks/bin/cks-upgrade", "1.33.2"]);
    sim.run_on_node(control, &newer)
        .await
        .expect("patch upgrade");
    match sim.run_on_node(worker, &newer).await {
        Err(CloudError::NodeCommand {
            exit_code: 1,
            stderr,
        }) => {
            assert!(
                stderr.contains("no CD-ROM with the Kubernetes binaries found"),
                "{stderr}"
            )
        }
        other => panic!("upgrading without the ISO: {other:?}"),
    }
    let err = sim
        .run_on_node(worker, &argv(&["sudo", "reboot"]))
        .await
        .unwrap_err();
    assert!(
        matches!(err, CloudError::NodeCommand { exit_code: 127, .. }),
        "{err}"
    );
    sim.stop_vm(worker, false).await.unwrap();
    let err = sim.run_on_node(worker, &newer).await.unwrap_err();
    assert!(matches!(err, CloudError::Unavailable(_)), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_cordons_and_deletes_nodes() {
    let env = kube_env().await;
    let sim = &env.sim;
    let cluster = build(
        sim,
        Shape {
            name: "delta",
            controls: 1,
            workers: 2,
        },
    )
    .await;
    let kubectl = Kubectl::new(&cluster.kubeconfig);

    let out = kubectl.ok(&["cordon", "delta-node-1"]).await;
    assert!(out.contains("cordoned"), "{out}");
    assert_eq!(
        node_rows(&kubectl).await[1],
        row(
            "delta-node-1",
            "Ready,SchedulingDisabled",
            "<none>",
            "v1.32.4"
        )
    );
    // A cordon moves nothing; deleting the pod (a drain) moves it to a schedulable node.
    let dashboard = || async {
        let args = [
            "get",
            "pods",
            "-n",
            "kubernetes-dashboard",
            "-o",
            "wide",
            "--no-headers",
        ];
        let out = kubectl.ok(&args).await;
        let cols: Vec<String> = out.split_whitespace().map(str::to_string).collect();
        (cols[0].clone(), cols[6].clone())
    };
    let (pod, node) = dashboard().await;
    assert_eq!(node, "delta-node-1");
    let out = kubectl
        .ok(&["delete", "pod", "-n", "kubernetes-dashboard", &pod])
        .await;
    assert!(out.contains("deleted"), "{out}");
    let (moved, node) = dashboard().await;
    assert_ne!(moved, pod);
    assert_eq!(node, "delta-node-2");
    kubectl.ok(&["uncordon", "delta-node-1"]).await;
    assert_eq!(node_rows(&kubectl).await[1].1, "Ready");

    let out = kubectl.ok(&["delete", "node", "delta-node-2"]).await;
    assert!(out.contains("deleted"), "{out}");
    let names: Vec<String> = node_rows(&kubectl).await.into_iter().map(|r| r.0).collect();
    assert_eq!(names, ["delta-control-1", "delta-node-1"]);
    // A deleted node's kubelet does not register again, even after a reboot.
    sim.stop_vm(&cluster.workers[1].id, false).await.unwrap();
    sim.start_vm(&cluster.workers[1].id).await.unwrap();
    settle(sim).await;
    assert_eq!(node_rows(&kubectl).await.len(), 2);
    let err = kubectl.fails(&["get", "node", "delta-node-2"]).await;
    assert!(err.contains("not found"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reopened_simulator_serves_its_clusters_again() {
    let range = free_range();
    let env = env_in(Some(range), Timings::instant()).await;
    let cluster = build(
        &env.sim,
        Shape {
            name: "epsilon",
            controls: 1,
            workers: 1,
        },
    )
    .await;
    let kubectl = Kubectl::new(&cluster.kubeconfig);
    kubectl.ok(&["cordon", "epsilon-node-1"]).await;
    drop(env.sim);
    // The old listener goes with the simulator (a crashed cksd).
    for _ in 0..100 {
        if refused(cluster.endpoint()).await {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(refused(cluster.endpoint()).await);

    let sim = Simulator::open(
        sqlite_pool(&env.url).await,
        SimConfig {
            seed: SeedSource::Default,
            timings: Timings::instant(),
            public_ip_range: Some(range),
            claims: None,
        },
    )
    .await
    .expect("reopen");
    settle(&sim).await;
    assert_eq!(
        node_rows(&kubectl).await,
        vec![
            row("epsilon-control-1", "Ready", "control-plane", "v1.32.4"),
            row(
                "epsilon-node-1",
                "Ready,SchedulingDisabled",
                "<none>",
                "v1.32.4"
            ),
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn joining_nodes_wait_for_their_control_plane_and_scale_through_the_endpoint() {
    let env = kube_env().await;
    let sim = &env.sim;
    let who = owner("kube");
    let c = catalog(sim);
    let cluster = build(
        sim,
        Shape {
            name: "zeta",
            controls: 1,
            workers: 0,
        },
    )
    .await;
    let kubectl = Kubectl::new(&cluster.kubeconfig);

    // Scaling: a new worker joins through the public endpoint.
    let mut spec = vm_spec(&c, &cluster.network, "zeta-node-9", &c.node, &who);
    spec.user_data = Some(cluster.worker_user_data("zeta-node-9", cluster.ip.address));
    let late = sim.deploy_vm(&spec).await.unwrap();
    settle(sim).await;
    assert_eq!(node_rows(&kubectl).await.len(), 1, "no ISO, no install");
    sim.attach_iso(&late.id, &cluster.iso).await.unwrap();
    settle(sim).await;
    assert_eq!(node_rows(&kubectl).await.len(), 2);
    // Installed nodes stay installed without their ISO.
    sim.detach_iso(&late.id).await.unwrap();
    assert_eq!(node_rows(&kubectl).await.len(), 2);

    // A worker whose control plane is down waits, then joins when it is up.
    let control = &cluster.controls[0].id;
    sim.stop_vm(control, false).await.unwrap();
    let mut spec = vm_spec(&c, &cluster.network, "zeta-node-10", &c.node, &who);
    spec.user_data = Some(cluster.worker_user_data("zeta-node-10", Ipv4Addr::new(10, 1, 1, 10)));
    let waiting = sim.deploy_vm(&spec).await.unwrap();
    sim.attach_iso(&waiting.id, &cluster.iso).await.unwrap();
    sim.start_vm(control).await.unwrap();
    let names: Vec<String> = node_rows(&kubectl).await.into_iter().map(|r| r.0).collect();
    assert_eq!(names, ["zeta-control-1", "zeta-node-10", "zeta-node-9"]);

    // Destroying a node's VM removes it from the cluster.
    sim.destroy_vm(&late.id).await.unwrap();
    assert_eq!(node_rows(&kubectl).await.len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_ha_control_plane_behind_a_load_balancer_survives_its_first_node() {
    let env = kube_env().await;
    let sim = &env.sim;
    let cluster = build(
        sim,
        Shape {
            name: "eta",
            controls: 2,
            workers: 1,
        },
    )
    .await;
    let kubectl = Kubectl::new(&cluster.kubeconfig);
    assert_eq!(
        node_rows(&kubectl).await,
        vec![
            row("eta-control-1", "Ready", "control-plane", "v1.32.4"),
            row("eta-control-2", "Ready", "control-plane", "v1.32.4"),
            row("eta-node-1", "Ready", "<none>", "v1.32.4"),
        ]
    );
    sim.inject(Fault::StopVm {
        vm_id: cluster.controls[0].id.clone(),
    })
    .await
    .unwrap();
    let rows = node_rows(&kubectl).await;
    assert_eq!(
        rows[0],
        row("eta-control-1", "NotReady", "control-plane", "v1.32.4")
    );
    assert_eq!(server_version(&kubectl).await, "v1.32.4");
    sim.inject(Fault::StopVm {
        vm_id: cluster.controls[1].id.clone(),
    })
    .await
    .unwrap();
    assert!(refused(cluster.endpoint()).await, "no control node left");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn simulators_with_different_ranges_serve_side_by_side() {
    let first = kube_env().await;
    let second = kube_env().await;
    let a = build(
        &first.sim,
        Shape {
            name: "left",
            controls: 1,
            workers: 0,
        },
    )
    .await;
    let b = build(
        &second.sim,
        Shape {
            name: "right",
            controls: 1,
            workers: 1,
        },
    )
    .await;
    assert_ne!(a.ip.address, b.ip.address);
    assert_eq!(node_rows(&Kubectl::new(&a.kubeconfig)).await.len(), 1);
    assert_eq!(node_rows(&Kubectl::new(&b.kubeconfig)).await.len(), 2);
    // Each cluster's CA only: the other cluster's kubeconfig is refused at the handshake.
    let mut crossed = b.kubeconfig.clone();
    crossed = crossed.replace(&b.ip.address.to_string(), &a.ip.address.to_string());
    let err = Kubectl::new(&crossed).fails(&["get", "nodes"]).await;
    assert!(err.contains("certificate"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nodes_install_after_their_install_time() {
    let timings = Timings {
        node_install: Duration::from_millis(300),
        ..Timings::instant()
    };
    let env = env_in(Some(free_range()), timings).await;
    let sim = &env.sim;
    let started = std::time::Instant::now();
    let cluster = build(
        sim,
        Shape {
            name: "theta",
            controls: 1,
            workers: 1,
        },
    )
    .await;
    assert!(
        started.elapsed() >= Duration::from_millis(300),
        "settle waits for installs"
    );
    assert_eq!(node_rows(&Kubectl::new(&cluster.kubeconfig)).await.len(), 2);
    // A VM that is not a cks node never installs.
    let who = owner("kube");
    let c = catalog(sim);
    let plain = sim
        .deploy_vm(&vm_spec(&c, &cluster.network, "plain", &c.small, &who))
        .await
        .unwrap();
    sim.attach_iso(&plain.id, &cluster.iso).await.unwrap();
    settle(sim).await;
    assert_eq!(node_rows(&Kubectl::new(&cluster.kubeconfig)).await.len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_endpoint_whose_address_is_taken_is_retried() {
    let env = kube_env().await;
    let sim = &env.sim;
    let cluster = build(
        sim,
        Shape {
            name: "iota",
            controls: 1,
            workers: 0,
        },
    )
    .await;
    let control = &cluster.controls[0].id;
    sim.stop_vm(control, false).await.unwrap();
    let squatter = std::net::TcpListener::bind(cluster.endpoint()).expect("take the address");
    sim.start_vm(control)
        .await
        .expect("a taken address does not fail the cloud call");
    assert!(sim.listening_endpoints().is_empty());
    let waited = tokio::time::timeout(Duration::from_millis(600), sim.settle()).await;
    assert!(waited.is_err(), "settle waits for the endpoint");
    drop(squatter);
    settle(sim).await;
    assert_eq!(sim.listening_endpoints(), vec![cluster.endpoint()]);
    assert_eq!(node_rows(&Kubectl::new(&cluster.kubeconfig)).await.len(), 1);
}

/// Waits up to ten seconds for `sim` to report (or not) a conflict on `addr`.
async fn conflict_within(sim: &Simulator, addr: SocketAddrV4, wanted: bool) -> Option<String> {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let conflict = sim.endpoint_conflict(addr);
        if conflict.is_some() == wanted || std::time::Instant::now() > deadline {
            return conflict;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_endpoint_held_by_a_stranger_is_a_conflict_and_one_a_sibling_serves_is_not() {
    let env = kube_env().await;
    let sim = &env.sim;
    let cluster = build(
        sim,
        Shape {
            name: "kappa",
            controls: 1,
            workers: 0,
        },
    )
    .await;
    let endpoint = cluster.endpoint();
    // Another instance of this database cannot bind the endpoint this one serves, and probes
    // it: the cluster's certificate answers, so there is no conflict.
    let sibling = Simulator::open(sqlite_pool(&env.url).await, SimConfig::for_tests())
        .await
        .expect("second instance");
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(sibling.endpoint_conflict(endpoint), None);
    drop(sibling);

    // A process that is no instance of this database holds the address.
    let control = &cluster.controls[0].id;
    sim.stop_vm(control, false).await.unwrap();
    let squatter = std::net::TcpListener::bind(endpoint).expect("take the address");
    sim.start_vm(control).await.unwrap();
    let conflict = conflict_within(sim, endpoint, true)
        .await
        .expect("a conflict");
    assert!(
        conflict.contains("held by another process") && conflict.contains(&endpoint.to_string()),
        "{conflict}"
    );
    drop(squatter);
    assert_eq!(conflict_within(sim, endpoint, false).await, None);
    settle(sim).await;
    assert_eq!(sim.listening_endpoints(), vec![endpoint]);
}
