#!/bin/bash
# cks: stop pods from reading this VM's metadata and user data.
#
# The user data of a control node holds cluster secrets, and CloudStack serves it to anything on
# the VM that asks the virtual router. Pod traffic is dropped in the raw table's PREROUTING
# chain: it sees pod packets before routing and before any CNI's filter rules, and a DROP there
# is final whatever the CNI later accepts. The node itself (OUTPUT) is unaffected.
set -euo pipefail
# shellcheck source=/dev/null
. "${CKS_NODE_ENV:-/etc/cks/node.env}"

chain=CKS-METADATA
addrs="169.254.169.254 ${CKS_METADATA_ADDRESSES:-}"

# The virtual router is usually the default gateway and the DHCP server; block both.
gateway=$(ip -4 route show default 2>/dev/null | awk '{ print $3; exit }' || true)
addrs="$addrs $gateway"
for lease in /run/systemd/netif/leases/*; do
  [ -f "$lease" ] && addrs="$addrs $(sed -n 's/^SERVER_ADDRESS=//p' "$lease")"
done
for lease in /var/lib/dhcp/*.leases /var/lib/dhclient/*.leases; do
  [ -f "$lease" ] && addrs="$addrs $(sed -n 's/.*dhcp-server-identifier \([0-9.]*\);.*/\1/p' "$lease" | tail -n 1)"
done

iptables -w -t raw -N "$chain" 2>/dev/null || iptables -w -t raw -F "$chain"
for addr in $(printf '%s\n' "$addrs" | tr -s ' ' '\n' | grep -E '^[0-9]+(\.[0-9]+){3}$' | sort -u); do
  if [ "$addr" = 169.254.169.254 ]; then
    iptables -w -t raw -A "$chain" -s "$CKS_POD_CIDR" -d "$addr" -j DROP
  else
    # The router also answers DNS for pods, so only its HTTP, HTTPS and password ports close.
    iptables -w -t raw -A "$chain" -s "$CKS_POD_CIDR" -d "$addr" -p tcp -m multiport --dports 80,443,8080 -j DROP
  fi
done
iptables -w -t raw -C PREROUTING -j "$chain" 2>/dev/null || iptables -w -t raw -I PREROUTING 1 -j "$chain"
echo "cks-metadata-guard: pod traffic from $CKS_POD_CIDR to the metadata service is dropped"
