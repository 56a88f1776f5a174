//! Rendering of the simulator inventory (zones, offerings, templates, ISOs, networks, IPs, rules, VMs, key pairs).
