# poolscale on Linode: a NodeBalancer in front of `poolscale app` instances
# that the poolscale controller creates and deletes itself (Linode has no
# instance pool: the pool is every instance with one tag), and a management
# instance running Prometheus, Alertmanager, Grafana and the controller.
# Terraform makes the pieces of the members' template (firewall, cloud-init,
# NodeBalancer), never the members. Step by step: docs/cloud.md.

locals {
  deploy   = "${path.module}/../.."
  pool_tag = "${var.name}-web"

  # The controller's configuration (docs/configuration.md,
  # docs/providers.md). No secret in it: the Linode token and the API token
  # are systemd credentials of the unit (deploy/systemd), and so is the
  # members' cloud-init, which the controller sends with every create.
  controller_config = <<-EOT
    # Written by deploy/terraform/linode. Every key: docs/configuration.md.
    pool: web
    min: ${var.pool_min}
    max: ${var.pool_max}
    initial: ${var.pool_initial}
    interval: 60s
    state_dir: /var/lib/poolscale
    health:
      interval: 5s
      timeout: 2s
      fails: 3
      boot_timeout: 600s
    drain:
      timeout: 30s
    provider:
      kind: linode
      app_port: 8080
      metrics_port: 9100
      linode:
        token_file: /run/credentials/poolscale-controller.service/linode-token
        region: ${var.region}
        type: ${var.instance_type}
        image: ${var.image}
        tag: ${local.pool_tag}
        label_prefix: ${local.pool_tag}
        authorized_keys: ${jsonencode(var.authorized_keys)}
        firewall_id: ${linode_firewall.pool.id}
        user_data_file: /run/credentials/poolscale-controller.service/member-cloud-init
        nodebalancer_id: ${linode_nodebalancer.web.id}
        nodebalancer_config_id: ${linode_nodebalancer_config.web.id}
    discovery:
      dir: /var/lib/poolscale
    api:
      listen: 0.0.0.0:9900
      bearer_token_file: /run/credentials/poolscale-controller.service/api-token
    # The seeds' step policy: Prometheus's CPU rules fire, Alertmanager posts
    # them to /api/v1/alerts, one step per interval.
    policy:
      kind: step
      step:
        size: 1
  EOT

  app_user_data = templatefile("${local.deploy}/cloud-init/app.yaml", {
    install_script   = file("${local.deploy}/cloud-init/poolscale-install.sh")
    poolscale_url    = var.poolscale_url
    poolscale_sha256 = var.poolscale_sha256
  })

  management_user_data = templatefile("${local.deploy}/cloud-init/management.yaml", {
    install_script     = file("${local.deploy}/cloud-init/poolscale-install.sh")
    setup_script       = file("${local.deploy}/cloud-init/management-setup.sh")
    poolscale_url      = var.poolscale_url
    poolscale_sha256   = var.poolscale_sha256
    controller_config  = local.controller_config
    controller_dropin  = file("${local.deploy}/systemd/poolscale-controller.service.d/linode.conf")
    alert_webhooks     = ["http://127.0.0.1:9900/api/v1/alerts"]
    extra_files        = {}
    sd_config          = replace(local.controller_config, "poolscale-controller.service", "poolscale-sd.service")
    sd_dropin          = file("${local.deploy}/systemd/poolscale-sd.service.d/linode.conf")
    prometheus_rules   = file("${local.deploy}/prometheus/rules/poolscale.yml")
    grafana_datasource = file("${local.deploy}/grafana/provisioning/datasources/prometheus.yaml")
    grafana_dashboards = file("${local.deploy}/grafana/provisioning/dashboards/poolscale.yaml")
    grafana_dashboard  = file("${local.deploy}/grafana/dashboards/poolscale.json")
    secret_files = {
      "/etc/poolscale/linode.token"      = var.linode_token
      "/etc/poolscale/member.cloud-init" = local.app_user_data
      "/etc/poolscale/api-token"         = random_password.api_token.result
      "/etc/grafana/poolscale.env"       = "GF_SECURITY_ADMIN_PASSWORD=${random_password.grafana_admin.result}\nPOOLSCALE_API_TOKEN=${random_password.api_token.result}\n"
    }
  })
}

# The controller's API token (Prometheus, Alertmanager and you present it),
# Grafana's admin password, and the management instance's root password
# (required with an image; log in with the keys): `terraform output -raw`.
resource "random_password" "api_token" {
  length  = 40
  special = false
}

resource "random_password" "grafana_admin" {
  length  = 24
  special = false
}

resource "random_password" "management_root" {
  length  = 32
  special = true
}

# --- Firewalls -----------------------------------------------------------------

# Members: the app and node exporter on the private network only (the
# NodeBalancer, the controller's health checks and Prometheus all come
# from 192.168.128.0/17), SSH from the operator. The controller attaches
# this firewall to every member it creates (firewall_id).
resource "linode_firewall" "pool" {
  label           = "${var.name}-pool"
  inbound_policy  = "DROP"
  outbound_policy = "ACCEPT"

  inbound {
    label    = "app-private"
    action   = "ACCEPT"
    protocol = "TCP"
    ports    = "8080"
    ipv4     = ["192.168.128.0/17"]
  }

  inbound {
    label    = "node-exporter-private"
    action   = "ACCEPT"
    protocol = "TCP"
    ports    = "9100"
    ipv4     = ["192.168.128.0/17"]
  }

  inbound {
    label    = "ssh-operator"
    action   = "ACCEPT"
    protocol = "TCP"
    ports    = "22"
    ipv4     = [var.operator_cidr]
  }
}

resource "linode_firewall" "management" {
  label           = "${var.name}-management"
  inbound_policy  = "DROP"
  outbound_policy = "ACCEPT"
  linodes         = [linode_instance.management.id]

  inbound {
    label    = "operator"
    action   = "ACCEPT"
    protocol = "TCP"
    ports    = "22,3000,9090,9900"
    ipv4     = [var.operator_cidr]
  }
}

# --- The NodeBalancer (its nodes are the controller's) ----------------------

resource "linode_nodebalancer" "web" {
  label  = "${var.name}-web"
  region = var.region
  tags   = [local.pool_tag]
}

resource "linode_nodebalancer_config" "web" {
  nodebalancer_id = linode_nodebalancer.web.id
  port            = 8080
  protocol        = "http"
  algorithm       = "roundrobin"
  stickiness      = "none"

  # The app answers 503 while booting and while draining after SIGTERM, so
  # the NodeBalancer stops sending new connections before a member goes.
  check          = "http"
  check_path     = "/health"
  check_interval = 5
  check_timeout  = 3
  check_attempts = 2
  check_passive  = true
}

# --- The management instance -----------------------------------------------

resource "linode_instance" "management" {
  label           = "${var.name}-management"
  region          = var.region
  type            = var.management_instance_type
  image           = var.image
  root_pass       = random_password.management_root.result
  authorized_keys = var.authorized_keys
  # Prometheus scrapes the members and the controller checks them over the
  # private network, where the pool firewall lets them in.
  private_ip = true
  tags       = ["${var.name}-management"]

  # Base64 of gzip: cloud-init unpacks it, and the dashboard and configs
  # fit in the 64 KiB metadata limit.
  metadata {
    user_data = base64gzip(local.management_user_data)
  }

  lifecycle {
    precondition {
      condition     = var.pool_min <= var.pool_initial && var.pool_initial <= var.pool_max
      error_message = "pool_initial must be between pool_min and pool_max."
    }
  }
}
