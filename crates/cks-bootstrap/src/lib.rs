//! What a node boots from: per-cluster PKI, kubeconfig, bootstrap tokens, kubeadm config, cloud-init, etcd, CNI, binaries ISO.
