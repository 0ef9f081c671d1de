#!/bin/sh
# Brings up the HA variant's private network (deploy/terraform/exoscale-ha):
# the second network interface, attached to an Exoscale managed private
# network whose DHCP hands each instance its static lease (10.0.0.x). The
# Debian template configures only the first interface, so this writes a
# persistent DHCP configuration for the other one (ifupdown, or netplan
# where the image has it), brings it up and waits for its IPv4 address.
# Run as root by cloud-init (etcd.yaml; management-setup.sh when present).
# Log: /var/log/cloud-init-output.log.
set -eu

# The interface that carries the default route is the public one.
public=$(ip -4 route show default | awk '{ for (i = 1; i < NF; i++) if ($i == "dev") { print $(i + 1); exit } }')
private=""
for path in /sys/class/net/*; do
	ifname=$(basename "$path")
	[ "$ifname" = lo ] && continue
	[ "$ifname" = "$public" ] && continue
	[ -e "$path/device" ] || continue # a physical (virtio) NIC, not a bridge
	private=$ifname
	break
done
if [ -z "$private" ]; then
	echo "private-network: no second interface (public: ${public:-none})" >&2
	exit 1
fi

if command -v netplan >/dev/null 2>&1; then
	mac=$(cat "/sys/class/net/$private/address")
	umask 077
	cat >/etc/netplan/60-poolscale-private.yaml <<NETPLAN
network:
  version: 2
  ethernets:
    poolscale-private:
      match:
        macaddress: "$mac"
      set-name: $private
      dhcp4: true
      dhcp4-overrides:
        use-routes: false
NETPLAN
	netplan apply
else
	cat >/etc/network/interfaces.d/60-poolscale-private <<IFUPDOWN
# poolscale HA: the private network (DHCP static lease), written by cloud-init.
allow-hotplug $private
iface $private inet dhcp
IFUPDOWN
	ifup "$private" || true
fi

# The static lease can take a few seconds; etcd and the controllers need it.
i=0
while ! ip -4 -o addr show dev "$private" | grep -q 'inet '; do
	i=$((i + 1))
	if [ "$i" -gt 60 ]; then
		echo "private-network: $private has no IPv4 address after 60 s" >&2
		exit 1
	fi
	sleep 1
done
echo "private-network: $(ip -4 -o addr show dev "$private" | awk '{ print $2, $4 }')"
