#!/bin/bash
# cks: upgrade this node to another Kubernetes version from the binaries ISO attached to it.
#
# Usage: cks-upgrade <version>, e.g. 1.33.1. The service drains the node, attaches the ISO of
# that version and runs this over SSH. The first control node runs `kubeadm upgrade apply`,
# every other node `kubeadm upgrade node`; then kubelet and kubectl are replaced and kubelet
# restarts. A node already at that version is left alone, so running it twice is safe.
set -euo pipefail
# shellcheck source=/dev/null
. "${CKS_NODE_ENV:-/etc/cks/node.env}"

export PATH=/opt/bin:$PATH
BIN=/opt/bin
MNT=/mnt/k8s-upgrade
log() { echo "cks-upgrade: $*" >&2; }

TARGET=${1:-}
TARGET=${TARGET#v}
if ! [[ "$TARGET" =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]]; then
  log "usage: cks-upgrade <MAJOR.MINOR.PATCH>"
  exit 2
fi
if [ "$CKS_ROLE" = etcd ]; then
  log "this is an etcd node; etcd is not upgraded by kubeadm"
  exit 1
fi

if [ "$("$BIN/kubelet" --version 2>/dev/null | awk '{print $2}' || true)" = "v$TARGET" ]; then
  log "already at v$TARGET"
  exit 0
fi

release() {
  if mountpoint -q "$MNT"; then umount "$MNT" || true; fi
}
trap release EXIT

# The binaries ISO of the target version (the config drive is iso9660 too, hence the check).
mount_iso() {
  local dev
  mkdir -p "$MNT"
  for dev in $(blkid -o device -t TYPE=iso9660 2>/dev/null || true); do
    mount -o ro "$dev" "$MNT" 2>/dev/null || continue
    if [ -x "$MNT/k8s/kubeadm" ] && [ "$("$MNT/k8s/kubeadm" version -o short 2>/dev/null || true)" = "v$TARGET" ]; then
      return 0
    fi
    umount "$MNT"
  done
  return 1
}

if ! mount_iso; then
  log "no CD-ROM with the Kubernetes binaries found (v$TARGET)"
  exit 1
fi

# The control plane's new images come from the ISO: nodes may have no registry access.
for image in "$MNT"/docker/*; do
  if [ -f "$image" ]; then ctr -n k8s.io images import "$image" >/dev/null; fi
done
install -m 0755 "$MNT/k8s/kubeadm" "$BIN/kubeadm"
if [ "$CKS_ROLE" = control-init ]; then
  kubeadm upgrade apply "v$TARGET" --yes
else
  kubeadm upgrade node
fi

systemctl stop kubelet
install -m 0755 "$MNT/k8s/kubelet" "$MNT/k8s/kubectl" "$BIN/"
systemctl daemon-reload
systemctl restart kubelet
log "upgraded to v$TARGET"
