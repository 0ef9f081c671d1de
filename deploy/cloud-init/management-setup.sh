#!/bin/sh
# Second half of the management host's cloud-init (management.yaml): runs
# once, as root, after Debian's packages (Prometheus, Alertmanager) are
# installed, the deferred files are written and poolscale is installed.
# Log: /var/log/cloud-init-output.log.
set -eu
export DEBIAN_FRONTEND=noninteractive

# The HA variant (deploy/terraform/exoscale-ha) reaches etcd and the other
# controller over a private network, which its user data sets up first.
if [ -x /usr/local/sbin/poolscale-private-network ]; then
	/usr/local/sbin/poolscale-private-network
fi

# Grafana is not packaged in Debian: Grafana Labs' APT repository. The key
# is fetched over HTTPS from the same site (trust on first use); check its
# fingerprint against https://grafana.com/docs/grafana/latest/setup-grafana/installation/debian/
# if that matters to you.
install -d -m 0755 /etc/apt/keyrings
curl -fsSL --retry 10 --retry-connrefused -o /etc/apt/keyrings/grafana.asc https://apt.grafana.com/gpg.key
echo "deb [signed-by=/etc/apt/keyrings/grafana.asc] https://apt.grafana.com stable main" \
	> /etc/apt/sources.list.d/grafana.list
apt-get update -q
apt-get install -y -q --no-install-recommends grafana

# Prometheus (scraping the controller's /metrics) and Alertmanager (posting
# to its /api/v1/alerts) run as user prometheus and present the API token.
install -o prometheus -g prometheus -m 0600 /etc/poolscale/api-token /etc/prometheus/poolscale-api-token
promtool check config /etc/prometheus/prometheus.yml
amtool check-config /etc/prometheus/alertmanager.yml
systemctl restart prometheus.service prometheus-alertmanager.service

# Grafana: admin password and the API token from /etc/grafana/poolscale.env
# (the drop-in written by cloud-init), provisioning from /etc/grafana/provisioning.
chgrp -R grafana /etc/grafana/provisioning
systemctl daemon-reload
systemctl enable --now grafana-server.service

# The controller. A bad config makes it exit 2, which systemd does not
# restart: see journalctl -u poolscale-controller.
systemctl enable --now poolscale-controller.service
echo "management-setup: done"
