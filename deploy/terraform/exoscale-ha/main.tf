# poolscale on Exoscale, highly available (docs/cloud.md "High
# availability", docs/ha.md): the pool and its NLB as in ../exoscale, two
# management instances, each running Prometheus, Alertmanager, Grafana and
# a controller with the ha: block (one leads, the other follows), and a
# three-member etcd holding the leader key and the controllers' state.
# Everything but the public ports talks over a managed private network
# (10.0.0.0/24, static DHCP leases); etcd speaks TLS between members and to
# the controllers, which present a client certificate.

locals {
  deploy = "${path.module}/../.."

  # Static leases on the private network, outside its dynamic range.
  etcd_ips       = ["10.0.0.11", "10.0.0.12", "10.0.0.13"]
  management_ips = ["10.0.0.21", "10.0.0.22"]
  etcd_endpoints = [for ip in local.etcd_ips : "https://${ip}:2379"]
  cred           = "/run/credentials/poolscale-controller.service"

  # The controller's configuration (docs/configuration.md,
  # docs/providers.md), the same on both management instances: ha.name is
  # left to its default, the host name, which is the instance's name and so
  # differs. No secret in it: the keys, the API token and etcd's client
  # certificate are systemd credentials of the unit (deploy/systemd).
  pool_config = <<-EOT
    # Written by deploy/terraform/exoscale-ha. Every key: docs/configuration.md.
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
        key_file: ${local.cred}/exoscale-key
        secret_file: ${local.cred}/exoscale-secret
    discovery:
      dir: /var/lib/poolscale
    # Every address: the other management instance's Alertmanager posts
    # its alerts here over the private network (the security group keeps
    # the public side to operator_cidr).
    api:
      listen: 0.0.0.0:9900
      bearer_token_file: ${local.cred}/api-token
    # The seeds' step policy: Prometheus's CPU rules fire, Alertmanager posts
    # them to /api/v1/alerts, one step per interval.
    policy:
      kind: step
      step:
        size: 1
  EOT

  # Leader election and state in etcd (docs/ha.md).
  ha_config = <<-EOT
    ha:
      etcd_endpoints: [${join(", ", local.etcd_endpoints)}]
      lease: 10s
      timeout: 2s
      ca_file: ${local.cred}/etcd-ca
      cert_file: ${local.cred}/etcd-client-cert
      key_file: ${local.cred}/etcd-client-key
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
    controller_config = "${local.pool_config}${local.ha_config}"
    controller_dropin = file("${local.deploy}/systemd/poolscale-controller.service.d/exoscale.conf")
    alert_webhooks    = [for ip in local.management_ips : "http://${ip}:9900/api/v1/alerts"]
    # poolscale sd needs no etcd: it gets the pool's part only.
    sd_config          = replace(local.pool_config, "poolscale-controller.service", "poolscale-sd.service")
    sd_dropin          = file("${local.deploy}/systemd/poolscale-sd.service.d/exoscale.conf")
    prometheus_rules   = file("${local.deploy}/prometheus/rules/poolscale.yml")
    grafana_datasource = file("${local.deploy}/grafana/provisioning/datasources/prometheus.yaml")
    grafana_dashboards = file("${local.deploy}/grafana/provisioning/dashboards/poolscale.yaml")
    grafana_dashboard  = file("${local.deploy}/grafana/dashboards/poolscale.json")
    secret_files = {
      "/etc/poolscale/exoscale.key"        = var.exoscale_api_key
      "/etc/poolscale/exoscale.secret"     = var.exoscale_api_secret
      "/etc/poolscale/api-token"           = random_password.api_token.result
      "/etc/poolscale/etcd-client-key.pem" = tls_private_key.etcd_client.private_key_pem
      "/etc/grafana/poolscale.env"         = "GF_SECURITY_ADMIN_PASSWORD=${random_password.grafana_admin.result}\nPOOLSCALE_API_TOKEN=${random_password.api_token.result}\n"
    }
    extra_files = {
      "/etc/poolscale/etcd-ca.pem"     = { mode = "0644", content = tls_self_signed_cert.etcd_ca.cert_pem }
      "/etc/poolscale/etcd-client.pem" = { mode = "0644", content = tls_locally_signed_cert.etcd_client.cert_pem }
      "/etc/systemd/system/poolscale-controller.service.d/etcd.conf" = {
        mode    = "0644"
        content = file("${local.deploy}/systemd/poolscale-controller.service.d/etcd.conf")
      }
      "/usr/local/sbin/poolscale-private-network" = {
        mode    = "0755"
        content = file("${local.deploy}/cloud-init/private-network.sh")
      }
    }
  })

  # One per etcd member: its name and address, the same cluster, CA and
  # member certificate.
  etcd_user_data = [for i, ip in local.etcd_ips : templatefile("${local.deploy}/cloud-init/etcd.yaml", {
    member_name            = "etcd-${i + 1}"
    member_ip              = ip
    initial_cluster        = join(",", [for j, peer in local.etcd_ips : "etcd-${j + 1}=https://${peer}:2380"])
    cluster_token          = "${var.name}-etcd"
    private_network_script = file("${local.deploy}/cloud-init/private-network.sh")
    etcd_dropin            = file("${local.deploy}/systemd/etcd.service.d/poolscale.conf")
    ca_cert                = tls_self_signed_cert.etcd_ca.cert_pem
    server_cert            = tls_locally_signed_cert.etcd_server.cert_pem
    server_key             = tls_private_key.etcd_server.private_key_pem
  })]
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

# --- etcd's certificates -----------------------------------------------------
# A CA of this deployment's own; one certificate for the three members
# (server and peer, valid for their three private addresses) and one client
# certificate for the controllers. etcd admits only clients with a
# certificate from this CA (--client-cert-auth). Five years; renewing them
# is `terraform apply -replace=...` and a restart of etcd and the
# controllers (docs/ha.md).

resource "tls_private_key" "etcd_ca" {
  algorithm   = "ECDSA"
  ecdsa_curve = "P256"
}

resource "tls_self_signed_cert" "etcd_ca" {
  private_key_pem       = tls_private_key.etcd_ca.private_key_pem
  is_ca_certificate     = true
  validity_period_hours = 43800
  allowed_uses          = ["cert_signing", "crl_signing", "digital_signature"]

  subject {
    common_name = "${var.name} etcd CA"
  }
}

resource "tls_private_key" "etcd_server" {
  algorithm   = "ECDSA"
  ecdsa_curve = "P256"
}

resource "tls_cert_request" "etcd_server" {
  private_key_pem = tls_private_key.etcd_server.private_key_pem
  ip_addresses    = concat(local.etcd_ips, ["127.0.0.1"])

  subject {
    common_name = "${var.name}-etcd"
  }
}

resource "tls_locally_signed_cert" "etcd_server" {
  cert_request_pem      = tls_cert_request.etcd_server.cert_request_pem
  ca_private_key_pem    = tls_private_key.etcd_ca.private_key_pem
  ca_cert_pem           = tls_self_signed_cert.etcd_ca.cert_pem
  validity_period_hours = 43800
  # Members are servers to clients and to each other, and clients of each other.
  allowed_uses = ["digital_signature", "key_encipherment", "server_auth", "client_auth"]
}

resource "tls_private_key" "etcd_client" {
  algorithm   = "ECDSA"
  ecdsa_curve = "P256"
}

resource "tls_cert_request" "etcd_client" {
  private_key_pem = tls_private_key.etcd_client.private_key_pem

  subject {
    common_name = "poolscale"
  }
}

resource "tls_locally_signed_cert" "etcd_client" {
  cert_request_pem      = tls_cert_request.etcd_client.cert_request_pem
  ca_private_key_pem    = tls_private_key.etcd_ca.private_key_pem
  ca_cert_pem           = tls_self_signed_cert.etcd_ca.cert_pem
  validity_period_hours = 43800
  allowed_uses          = ["digital_signature", "key_encipherment", "client_auth"]
}

# --- The private network and placement ---------------------------------------
# Exoscale's security groups filter the public interfaces only: on the
# private network, etcd's TLS client certificates and the controllers'
# bearer token are the access control.

resource "exoscale_private_network" "ha" {
  zone        = var.zone
  name        = "${var.name}-private"
  description = "poolscale HA: etcd, and the controllers and Alertmanagers to each other"
  netmask     = "255.255.255.0"
  start_ip    = "10.0.0.100"
  end_ip      = "10.0.0.200"
}

# Members of a group run on different hypervisors: one host failure takes
# one etcd member and one controller at most.
resource "exoscale_anti_affinity_group" "etcd" {
  name        = "${var.name}-etcd"
  description = "poolscale HA: the etcd members on different hosts"
}

resource "exoscale_anti_affinity_group" "management" {
  name        = "${var.name}-management"
  description = "poolscale HA: the management instances on different hosts"
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

resource "exoscale_security_group" "etcd" {
  name        = "${var.name}-etcd"
  description = "poolscale etcd members: SSH from the operator (etcd itself listens on the private network only)"
}

resource "exoscale_security_group_rule" "etcd_ssh" {
  security_group_id = exoscale_security_group.etcd.id
  description       = "SSH from the operator"
  type              = "INGRESS"
  protocol          = "TCP"
  cidr              = var.operator_cidr
  start_port        = 22
  end_port          = 22
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

# --- etcd ------------------------------------------------------------------------

resource "exoscale_compute_instance" "etcd" {
  count                   = length(local.etcd_ips)
  zone                    = var.zone
  name                    = "${var.name}-etcd-${count.index + 1}"
  template_id             = data.exoscale_template.debian.id
  type                    = var.etcd_instance_type
  disk_size               = var.disk_size
  ssh_keys                = var.ssh_key_name == null ? null : [var.ssh_key_name]
  security_group_ids      = [exoscale_security_group.etcd.id]
  anti_affinity_group_ids = [exoscale_anti_affinity_group.etcd.id]
  user_data               = base64gzip(local.etcd_user_data[count.index])
  labels = {
    poolscale = var.name
  }

  lifecycle {
    # A new template id (the name's image updated) or user data must not
    # replace the members (all three at once would lose the cluster):
    # replace one at a time, by hand (docs/ha.md, Operating it).
    ignore_changes = [template_id, user_data]
  }

  network_interface {
    network_id = exoscale_private_network.ha.id
    ip_address = local.etcd_ips[count.index]
  }
}

# --- The management instances ------------------------------------------------

resource "exoscale_compute_instance" "management" {
  count                   = length(local.management_ips)
  zone                    = var.zone
  name                    = "${var.name}-management-${count.index + 1}"
  template_id             = data.exoscale_template.debian.id
  type                    = var.management_instance_type
  disk_size               = max(var.disk_size, 20)
  ssh_keys                = var.ssh_key_name == null ? null : [var.ssh_key_name]
  security_group_ids      = [exoscale_security_group.management.id]
  anti_affinity_group_ids = [exoscale_anti_affinity_group.management.id]
  # Base64 of gzip: the provider passes base64 through as is, cloud-init
  # unpacks it, and the dashboard and configs fit in the 32 KiB limit.
  user_data = base64gzip(local.management_user_data)
  labels = {
    poolscale = var.name
  }

  network_interface {
    network_id = exoscale_private_network.ha.id
    ip_address = local.management_ips[count.index]
  }
}
