#!/bin/bash
# cks: install this node's binaries and container images from the cluster's binaries ISO.
#
# Works offline: everything comes from the ISO attached as a CD-ROM, or for imported nodes from
# the copy the virtual router serves (checked against the ISO's SHA256SUMS).
set -euo pipefail
# shellcheck source=/dev/null
. "${CKS_NODE_ENV:-/etc/cks/node.env}"

MNT=/mnt/k8sdisk
BIN=/opt/bin
ISO_DEV=""
log() { echo "cks-install: $*" >&2; }

# The file that proves a medium is the binaries ISO for this node's role.
marker() {
  if [ "$CKS_ROLE" = etcd ]; then echo etcd; else echo k8s/kubeadm; fi
}

mount_iso() {
  mkdir -p "$MNT"
  if mountpoint -q "$MNT"; then
    [ -e "$MNT/$(marker)" ] && return 0
    umount "$MNT"
  fi
  # The config drive is iso9660 too, hence the marker check.
  for dev in $(blkid -o device -t TYPE=iso9660 2>/dev/null || true); do
    mount -o ro "$dev" "$MNT" 2>/dev/null || continue
    if [ -e "$MNT/$(marker)" ]; then
      ISO_DEV=$dev
      return 0
    fi
    umount "$MNT"
  done
  return 1
}

fetch_iso() {
  [ -n "${CKS_ISO_URL:-}" ] || return 1
  local dir=/var/lib/cks/iso sum path
  mkdir -p "$dir"
  curl -fsS --retry 3 -o "$dir/SHA256SUMS" "$CKS_ISO_URL/SHA256SUMS" || return 1
  while read -r sum path; do
    path=${path#\*}
    case "$path" in /* | *..*) log "refusing path $path"; return 1 ;; esac
    [ -n "$sum" ] || continue
    mkdir -p "$dir/$(dirname "$path")"
    curl -fsS --retry 3 -o "$dir/$path" "$CKS_ISO_URL/$path" || return 1
  done < "$dir/SHA256SUMS"
  (cd "$dir" && sha256sum --quiet -c SHA256SUMS) || return 1
  MNT=$dir
}

find_media() {
  local attempt
  for attempt in $(seq 1 "$CKS_INSTALL_ATTEMPTS"); do
    if mount_iso || fetch_iso; then
      return 0
    fi
    log "binaries ISO not found (attempt $attempt of $CKS_INSTALL_ATTEMPTS), retrying in ${CKS_INSTALL_WAIT}s"
    sleep "$CKS_INSTALL_WAIT"
  done
  log "giving up: no binaries ISO"
  return 1
}

release_media() {
  if [ -n "$ISO_DEV" ]; then
    umount "$MNT" || true
    if [ "${CKS_EJECT_ISO:-false}" = true ]; then eject "$ISO_DEV" || true; fi
  fi
}

import_image() {
  local try
  for try in 1 2 3; do
    ctr -n k8s.io images import "$1" >/dev/null && return 0
    log "importing $1 failed (try $try)"
    sleep 5
  done
  return 1
}

install_kubernetes() {
  mkdir -p "$BIN" /opt/cni/bin /opt/cks/manifests
  install -m 0755 "$MNT/k8s/kubeadm" "$MNT/k8s/kubelet" "$MNT/k8s/kubectl" "$BIN/"
  for archive in "$MNT"/cni/*.tgz; do tar -xzf "$archive" -C /opt/cni/bin; done
  for archive in "$MNT"/cri-tools/*.tar.gz; do tar -xzf "$archive" -C "$BIN"; done
  for tool in kubeadm kubelet kubectl crictl; do ln -sf "$BIN/$tool" "/usr/local/bin/$tool"; done
  for manifest in network.yaml dashboard.yaml provider.yaml autoscaler.yaml snapshot-crds.yaml manifest.yaml; do
    if [ -f "$MNT/$manifest" ]; then install -m 0644 "$MNT/$manifest" /opt/cks/manifests/; fi
  done

  modprobe overlay
  modprobe br_netfilter
  sysctl --system >/dev/null

  systemctl restart containerd
  for image in "$MNT"/docker/*; do
    if [ -f "$image" ]; then import_image "$image"; fi
  done
  # Run the pause image that came with this Kubernetes version, not containerd's default.
  local pause
  pause=$(ctr -n k8s.io images ls -q | grep -E '/pause:' | sort -V | tail -n 1 || true)
  if [ -n "$pause" ]; then
    sed -i "s|^\([[:space:]]*sandbox_image[[:space:]]*=\).*|\1 \"$pause\"|" /etc/containerd/config.toml
  fi
  systemctl restart containerd

  systemctl daemon-reload
  systemctl enable --now cks-metadata-guard.service
  systemctl enable kubelet.service
}

install_etcd() {
  local archive tmp
  archive=$(find "$MNT/etcd" -maxdepth 1 -name '*.tar.gz' | sort | head -n 1)
  [ -n "$archive" ] || { log "no etcd archive on the ISO"; return 1; }
  tmp=$(mktemp -d)
  tar -xzf "$archive" -C "$tmp" --strip-components=1
  mkdir -p "$BIN"
  install -m 0755 "$tmp/etcd" "$tmp/etcdctl" "$BIN/"
  rm -rf "$tmp"
  install -d -m 0700 /var/lib/etcd
  systemctl daemon-reload
  systemctl enable --now etcd.service
}

find_media
if [ "$CKS_ROLE" = etcd ]; then install_etcd; else install_kubernetes; fi
release_media
log "done"
