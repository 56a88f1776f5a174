#!/usr/bin/env bash
# Installs what the test suite needs on a fresh Debian machine: the real tools our generated
# artifacts are checked with, the databases, and the third-party API client. Safe to run twice.
set -euo pipefail

APT_PACKAGES=(
  openssl          # openssl verify / x509 checks of the generated PKI
  cloud-init       # cloud-init schema --config-file on every generated user data document
  etcd-server      # a real etcd cluster started with the rendered flags
  etcd-client      # etcdctl endpoint health over TLS
  xorriso          # reads back the binaries ISO
  genisoimage      # isoinfo
  shellcheck       # lints the shell scripts the node user data installs
  iptables         # runs the metadata guard in a private network namespace
  iproute2         # veth pairs and namespaces for that test
  systemd          # systemd-analyze verify on the generated unit files
  postgresql       # the PostgreSQL backend's tests
  chromium         # the web console's end-to-end tests (driven by Playwright, console/tests)
  fonts-dejavu-core  # so that headless Chromium's screenshots have text
)

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ "${#missing[@]}" -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# kubectl reads the kubeconfigs we generate and talks to the simulated clusters. The machine image
# ships one (v1.32); where it does not, Debian's kubernetes-client provides an older kubectl.
if ! command -v kubectl >/dev/null; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends kubernetes-client >/dev/null
fi

# Python `cs`: CloudStack's own signing rules, written by someone else, proves ours.
python3 -c 'import cs' 2>/dev/null || python3 -m pip install -q 'cs==5.2.0'

command -v cargo-nextest >/dev/null || cargo install --locked cargo-nextest
# cargo-deny checks licenses, duplicate major versions and sources (deny.toml); a few minutes to build.
command -v cargo-deny >/dev/null || cargo install --locked cargo-deny@0.20.2

# The web console's tests: Node 20+ (the machine image ships it; Debian's own nodejs is too old for
# Playwright) and the console's npm packages at the versions in console/package-lock.json.
if ! command -v npm >/dev/null; then
  echo "install-test-deps: Node.js 20+ and npm are needed for the console tests" >&2
  exit 1
fi
"$(dirname "$0")/install-console-deps.sh"
