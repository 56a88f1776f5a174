#!/bin/bash
# cks: run kubeadm with the configuration cloud-init wrote, then (first control node only)
# deploy the network, the dashboard and the cloud controller manager's secret.
set -euo pipefail
# shellcheck source=/dev/null
. "${CKS_NODE_ENV:-/etc/cks/node.env}"

export PATH=/opt/bin:$PATH
export KUBECONFIG=/etc/kubernetes/admin.conf
CONFIG=/etc/kubernetes/kubeadm-config.yaml
PKI_BACKUP=/var/lib/cks/pki-backup
log() { echo "cks-kubeadm: $*" >&2; }

# Any HTTP answer means the API server is up (anonymous /healthz may be disabled); kubeadm's
# discovery then verifies the CA against the pinned hash.
wait_for_api() {
  local attempt code
  for attempt in $(seq 1 "$CKS_INSTALL_ATTEMPTS"); do
    code=$(curl -ks -o /dev/null -w '%{http_code}' "https://$CKS_API_SERVER/healthz" || true)
    if [ -n "$code" ] && [ "$code" != 000 ]; then return 0; fi
    log "API server $CKS_API_SERVER not ready (attempt $attempt)"
    sleep "$CKS_INSTALL_WAIT"
  done
  return 1
}

# kubeadm reset empties /etc/kubernetes/pki, which holds the CA the service generated: keep a
# copy so a retry uses the same identity.
run_kubeadm() {
  local try
  rm -rf "$PKI_BACKUP"
  install -d -m 0700 "$PKI_BACKUP"
  cp -a /etc/kubernetes/pki/. "$PKI_BACKUP/"
  for try in 1 2 3; do
    if kubeadm "$@" --config "$CONFIG"; then
      rm -rf "$PKI_BACKUP"
      return 0
    fi
    log "kubeadm $1 failed (try $try)"
    kubeadm reset -f || true
    install -d -m 0755 /etc/kubernetes/pki
    cp -a "$PKI_BACKUP/." /etc/kubernetes/pki/
    sleep 10
  done
  return 1
}

apply() {
  local try
  for try in $(seq 1 30); do
    kubectl apply -f "$1" && return 0
    log "applying $1 failed (try $try)"
    sleep 10
  done
  return 1
}

after_init() {
  install -d -m 0700 /root/.kube
  install -m 0600 /etc/kubernetes/admin.conf /root/.kube/config
  if [ "$CKS_EXTERNAL_CNI" != true ] && [ -f /opt/cks/manifests/network.yaml ]; then
    apply /opt/cks/manifests/network.yaml
  fi
  if [ -f /opt/cks/manifests/dashboard.yaml ]; then apply /opt/cks/manifests/dashboard.yaml; fi
  local secret=/etc/cks/secrets/cloudstack-secret.yaml
  if [ -f "$secret" ]; then
    apply "$secret"
    rm -f "$secret"
    if [ -f /opt/cks/manifests/provider.yaml ]; then apply /opt/cks/manifests/provider.yaml; fi
  fi
}

if [ -f /etc/kubernetes/kubelet.conf ]; then
  log "this node is already part of the cluster"
  exit 0
fi
case "${1:-}" in
  init)
    # Only a cluster that adds control nodes shares its certificates (encrypted, for two hours).
    if grep -q '^certificateKey:' "$CONFIG"; then
      run_kubeadm init --upload-certs
    else
      run_kubeadm init
    fi
    after_init
    ;;
  join)
    wait_for_api
    run_kubeadm join
    ;;
  *)
    log "usage: $0 init|join"
    exit 2
    ;;
esac
log "done"
