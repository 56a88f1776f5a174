//! The IaaS nouns (zones, offerings, templates, ISOs, networks, IPs, rules, VMs, key pairs) as plain data.
