//! The metadata guard as a node runs it: the script and `node.env` are taken from a generated
//! worker user data document and run with Debian's iptables inside a private network namespace
//! (`unshare --net`), where a "pod" namespace behind a veth pair probes the metadata addresses.

use std::process::Command;

use cks_bootstrap::{BootstrapToken, NodeUserData};
use time::Duration;

use crate::harness::*;

// Nothing here touches the host: the "pod" is a second network namespace held by a sleeping
// process (no `ip netns add`, which writes to /run/netns), and both die with the scenario.
const SCENARIO: &str = r#"
set -eu
guard=$1 env=$2
ip link set lo up
unshare --net sleep 120 &
pod_pid=$!
server=""
trap 'kill $pod_pid $server 2>/dev/null || true' EXIT
while [ "$(readlink /proc/$pod_pid/ns/net)" = "$(readlink /proc/$$/ns/net)" ]; do sleep 0.05; done
inpod() { nsenter --net=/proc/$pod_pid/ns/net "$@"; }
ip link add cks-host type veth peer name cks-pod
ip link set cks-pod netns "$pod_pid"
ip addr add 10.244.0.1/24 dev cks-host
ip link set cks-host up
inpod ip link set lo up
inpod ip addr add 10.244.0.2/24 dev cks-pod
inpod ip link set cks-pod up
inpod ip route add default via 10.244.0.1
# The metadata service, and the virtual router (which also answers DNS on 53).
ip addr add 169.254.169.254/32 dev lo
ip addr add 10.1.1.1/32 dev lo
/usr/bin/python3 -c '
import socket, threading
def serve(port):
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", port)); s.listen()
    while True: s.accept()[0].close()
for port in (53, 80, 8080): threading.Thread(target=serve, args=(port,), daemon=True).start()
threading.Event().wait(60)' &
server=$!
sleep 0.5
probe() {
  if "$@" /usr/bin/python3 -c 'import socket, sys; socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=0.7)' "$who_ip" "$who_port" 2>/dev/null
  then echo "open $who_ip:$who_port"; else echo "closed $who_ip:$who_port"; fi
}
pod() { who_ip=$1 who_port=$2 probe inpod; }
host() { who_ip=$1 who_port=$2 probe env; }
echo "== before"
pod 169.254.169.254 80; pod 10.1.1.1 80; pod 10.1.1.1 53
CKS_NODE_ENV=$env "$guard"
CKS_NODE_ENV=$env "$guard"   # a restart must not stack rules
echo "== after"
pod 169.254.169.254 80; pod 10.1.1.1 80; pod 10.1.1.1 8080; pod 10.1.1.1 53
host 169.254.169.254 80; host 10.1.1.1 80
echo "== rules"
iptables -w -t raw -S
"#;

#[test]
fn pods_cannot_reach_the_metadata_service() {
    tool("iptables", "iptables");
    tool("ip", "iproute2");
    tool("nsenter", "util-linux");
    let unshare = tool("unshare", "util-linux");
    let cluster = full_cluster();
    let token = BootstrapToken::generate(Duration::hours(1)).unwrap();
    let user_data = NodeUserData::new(&cluster, full_pki())
        .unwrap()
        .worker("prod-eu-node-1", cluster.endpoint_ip, &token)
        .unwrap();
    let doc: serde_json::Value = serde_saphyr::from_str(&user_data).unwrap();
    let content = |path: &str| {
        doc["write_files"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["path"] == path)
            .unwrap()["content"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let dir = tempfile::tempdir().unwrap();
    let guard = write(
        dir.path(),
        "cks-metadata-guard",
        content("/opt/cks/bin/cks-metadata-guard"),
    );
    std::fs::set_permissions(&guard, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let env = write(dir.path(), "node.env", content("/etc/cks/node.env"));

    let out = run_ok(
        Command::new(unshare)
            .args(["--net", "--", "bash", "-c", SCENARIO, "scenario"])
            .arg(&guard)
            .arg(&env),
    );
    let (before, rest) = out.split_once("== after").unwrap();
    let (after, rules) = rest.split_once("== rules").unwrap();
    for line in [
        "open 169.254.169.254:80",
        "open 10.1.1.1:80",
        "open 10.1.1.1:53",
    ] {
        assert!(
            before.contains(line),
            "the scenario is broken before the guard ({line}):\n{out}"
        );
    }
    for line in [
        "pod closed 169.254.169.254:80",
        "pod closed 10.1.1.1:80",
        "pod closed 10.1.1.1:8080",
        "pod open 10.1.1.1:53",
        "host open 169.254.169.254:80",
        "host open 10.1.1.1:80",
    ] {
        let (who, what) = line.split_once(' ').unwrap();
        let section: Vec<&str> = after.lines().filter(|l| !l.trim().is_empty()).collect();
        let index = match who {
            "pod" => [
                "169.254.169.254:80",
                "10.1.1.1:80",
                "10.1.1.1:8080",
                "10.1.1.1:53",
            ]
            .iter()
            .position(|a| what.ends_with(a))
            .unwrap(),
            _ => {
                4 + ["169.254.169.254:80", "10.1.1.1:80"]
                    .iter()
                    .position(|a| what.ends_with(a))
                    .unwrap()
            }
        };
        assert_eq!(section[index], what, "{line}:\n{out}");
    }
    assert_eq!(
        rules.matches("-A PREROUTING -j CKS-METADATA").count(),
        1,
        "{rules}"
    );
    assert_eq!(
        rules.matches("-d 169.254.169.254/32 -j DROP").count(),
        1,
        "{rules}"
    );
}
