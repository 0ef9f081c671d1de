# poolscale on Exoscale: an instance pool of `poolscale app` VMs behind a
# network load balancer, and a management instance running Prometheus,
# Alertmanager, Grafana and the poolscale controller, which resizes the
# pool through the Exoscale API. Step by step: docs/cloud.md.
# deploy/terraform/exoscale-ha calls this directory as its module "pool",
# with var.ha set (no management instance here; what the HA ones' user
# data adds): one definition of the pool, the NLB, the security groups
# and the user data.

locals {
  deploy = "${path.module}/../.."

  # The controller's configuration (docs/configuration.md,
  # docs/providers.md). No secret in it: the key, the secret and the API
  # token are systemd credentials of the unit (deploy/systemd).
  pool_config = <<-EOT
    # Written by deploy/terraform/exoscale. Every key: docs/configuration.md.
    pool: web
    min: ${var.pool_min}
    max: ${var.pool_max}
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
      kind: exoscale
      app_port: 8080
      metrics_port: 9100
      exoscale:
        zone: ${var.zone}
        pool_id: ${exoscale_instance_pool.web.id}
        key_file: /run/credentials/poolscale-controller.service/exoscale-key
        secret_file: /run/credentials/poolscale-controller.service/exoscale-secret
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
    install_script    = file("${local.deploy}/cloud-init/poolscale-install.sh")
    setup_script      = file("${local.deploy}/cloud-init/management-setup.sh")
    poolscale_url     = var.poolscale_url
    poolscale_sha256  = var.poolscale_sha256
    controller_config = "${local.pool_config}${var.ha == null ? "" : var.ha.controller_config}"
    controller_dropin = file("${local.deploy}/systemd/poolscale-controller.service.d/exoscale.conf")
    alert_webhooks    = var.ha == null ? ["http://127.0.0.1:9900/api/v1/alerts"] : var.ha.alert_webhooks
    extra_files       = var.ha == null ? {} : var.ha.files
    # poolscale sd needs no etcd: it gets the pool's part only.
    sd_config          = replace(local.pool_config, "poolscale-controller.service", "poolscale-sd.service")
    sd_dropin          = file("${local.deploy}/systemd/poolscale-sd.service.d/exoscale.conf")
    prometheus_rules   = file("${local.deploy}/prometheus/rules/poolscale.yml")
    grafana_datasource = file("${local.deploy}/grafana/provisioning/datasources/prometheus.yaml")
    grafana_dashboards = file("${local.deploy}/grafana/provisioning/dashboards/poolscale.yaml")
    grafana_dashboard  = file("${local.deploy}/grafana/dashboards/poolscale.json")
    secret_files = merge({
      "/etc/poolscale/exoscale.key"    = var.exoscale_api_key
      "/etc/poolscale/exoscale.secret" = var.exoscale_api_secret
      "/etc/poolscale/api-token"       = random_password.api_token.result
      "/etc/grafana/poolscale.env"     = "GF_SECURITY_ADMIN_PASSWORD=${random_password.grafana_admin.result}\nPOOLSCALE_API_TOKEN=${random_password.api_token.result}\n"
    }, var.ha == null ? {} : var.ha.private_files)
  })
}

data "exoscale_template" "debian" {
  zone = var.zone
  name = var.template_name
}

# The controller's API token (Prometheus, Alertmanager and you present it)
# and Grafana's admin password: `terraform output -raw api_token`.
resource "random_password" "api_token" {
  length  = 40
  special = false
}

resource "random_password" "grafana_admin" {
  length  = 24
  special = false
}

# --- Security groups ---------------------------------------------------------

resource "exoscale_security_group" "pool" {
  name        = "${var.name}-pool"
  description = "poolscale pool members: the app for everyone, metrics for the management instance"
}

resource "exoscale_security_group" "management" {
  name        = "${var.name}-management"
  description = "poolscale management instance: Prometheus, Grafana and the controller API for the operator"
}

# The NLB keeps the client's address, so the app port is open to all.
resource "exoscale_security_group_rule" "pool_app" {
  security_group_id = exoscale_security_group.pool.id
  description       = "poolscale app (NLB traffic and health checks, the controller's health checks)"
  type              = "INGRESS"
  protocol          = "TCP"
  cidr              = "0.0.0.0/0"
  start_port        = 8080
  end_port          = 8080
}

resource "exoscale_security_group_rule" "pool_metrics" {
  security_group_id      = exoscale_security_group.pool.id
  description            = "node exporter, scraped by Prometheus on the management instance"
  type                   = "INGRESS"
  protocol               = "TCP"
  user_security_group_id = exoscale_security_group.management.id
  start_port             = 9100
  end_port               = 9100
}

resource "exoscale_security_group_rule" "pool_ssh" {
  security_group_id = exoscale_security_group.pool.id
  description       = "SSH from the operator"
  type              = "INGRESS"
  protocol          = "TCP"
  cidr              = var.operator_cidr
  start_port        = 22
  end_port          = 22
}

resource "exoscale_security_group_rule" "management_prometheus" {
  security_group_id = exoscale_security_group.management.id
  description       = "Prometheus from the operator"
  type              = "INGRESS"
  protocol          = "TCP"
  cidr              = var.operator_cidr
  start_port        = 9090
  end_port          = 9090
}

resource "exoscale_security_group_rule" "management_grafana" {
  security_group_id = exoscale_security_group.management.id
  description       = "Grafana from the operator"
  type              = "INGRESS"
  protocol          = "TCP"
  cidr              = var.operator_cidr
  start_port        = 3000
  end_port          = 3000
}

resource "exoscale_security_group_rule" "management_api" {
  security_group_id = exoscale_security_group.management.id
  description       = "poolscale controller API (bearer token) from the operator"
  type              = "INGRESS"
  protocol          = "TCP"
  cidr              = var.operator_cidr
  start_port        = 9900
  end_port          = 9900
}

resource "exoscale_security_group_rule" "management_ssh" {
  security_group_id = exoscale_security_group.management.id
  description       = "SSH from the operator"
  type              = "INGRESS"
  protocol          = "TCP"
  cidr              = var.operator_cidr
  start_port        = 22
  end_port          = 22
}

# --- The pool and its load balancer ----------------------------------------

resource "exoscale_instance_pool" "web" {
  zone               = var.zone
  name               = "${var.name}-web"
  description        = "poolscale app members, sized by the poolscale controller"
  template_id        = data.exoscale_template.debian.id
  instance_type      = var.instance_type
  disk_size          = var.disk_size
  size               = var.pool_initial
  instance_prefix    = "${var.name}-web"
  key_pair           = var.ssh_key_name
  security_group_ids = [exoscale_security_group.pool.id]
  user_data          = local.app_user_data
  labels = {
    poolscale = var.name
  }

  lifecycle {
    # The controller owns the size once the pool exists: a later apply must
    # not put it back to pool_initial.
    ignore_changes = [size]

    precondition {
      condition     = var.pool_min <= var.pool_initial && var.pool_initial <= var.pool_max
      error_message = "pool_initial must be between pool_min and pool_max."
    }
  }
}

resource "exoscale_nlb" "web" {
  zone        = var.zone
  name        = "${var.name}-web"
  description = "poolscale: balances the pool's app port"
}

resource "exoscale_nlb_service" "web" {
  zone             = var.zone
  nlb_id           = exoscale_nlb.web.id
  name             = "${var.name}-web-8080"
  description      = "poolscale app"
  instance_pool_id = exoscale_instance_pool.web.id
  protocol         = "tcp"
  port             = 8080
  target_port      = 8080
  strategy         = "round-robin"

  # The app answers 503 while booting and while draining after SIGTERM, so
  # the NLB stops sending new connections before a member goes away.
  healthcheck {
    mode     = "http"
    port     = 8080
    uri      = "/health"
    interval = 5
    timeout  = 3
    retries  = 1
  }
}

# --- The management instance -----------------------------------------------

# None when var.ha is set: the caller makes its own (exoscale-ha: two, on
# its private network). With count the instance is management[0] in the
# state, which Terraform moves to by itself: an existing one stays.
resource "exoscale_compute_instance" "management" {
  count              = var.ha == null ? 1 : 0
  zone               = var.zone
  name               = "${var.name}-management"
  template_id        = data.exoscale_template.debian.id
  type               = var.management_instance_type
  disk_size          = max(var.disk_size, 20)
  ssh_keys           = var.ssh_key_name == null ? null : [var.ssh_key_name]
  security_group_ids = [exoscale_security_group.management.id]
  # Base64 of gzip: the provider passes base64 through as is, cloud-init
  # unpacks it, and the dashboard and configs fit in the 32 KiB limit.
  user_data = base64gzip(local.management_user_data)
  labels = {
    poolscale = var.name
  }
}
