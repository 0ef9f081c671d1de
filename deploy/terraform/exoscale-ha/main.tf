# poolscale on Exoscale, highly available (docs/cloud.md "High
# availability", docs/ha.md): the pool, its NLB, the security groups and the
# user data come from ../exoscale, called as module "pool"; this adds two
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

  # Credentials of the controller's unit (deploy/systemd).
  cred = "/run/credentials/poolscale-controller.service"

  # Leader election and state in etcd (docs/ha.md).
  ha_config = <<-EOT
    # Added by deploy/terraform/exoscale-ha: one controller leads, the
    # other follows; the API listens on every address, so the other
    # management instance's Alertmanager reaches it over the private network.
    ha:
      etcd_endpoints: [${join(", ", local.etcd_endpoints)}]
      lease: 10s
      timeout: 2s
      ca_file: ${local.cred}/etcd-ca
      cert_file: ${local.cred}/etcd-client-cert
      key_file: ${local.cred}/etcd-client-key
  EOT

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

# --- The pool, its NLB, the security groups, the user data --------------------
# ../exoscale with ha set: no management instance there (they are below),
# and their user data gets the ha: block, every controller's alert webhook
# and the etcd files.

module "pool" {
  source = "../exoscale"

  name                = var.name
  zone                = var.zone
  template_name       = var.template_name
  instance_type       = var.instance_type
  disk_size           = var.disk_size
  pool_min            = var.pool_min
  pool_max            = var.pool_max
  pool_initial        = var.pool_initial
  ssh_key_name        = var.ssh_key_name
  operator_cidr       = var.operator_cidr
  poolscale_url       = var.poolscale_url
  poolscale_sha256    = var.poolscale_sha256
  exoscale_api_key    = var.exoscale_api_key
  exoscale_api_secret = var.exoscale_api_secret

  ha = {
    controller_config = local.ha_config
    alert_webhooks    = [for ip in local.management_ips : "http://${ip}:9900/api/v1/alerts"]
    private_files = {
      "/etc/poolscale/etcd-client-key.pem" = tls_private_key.etcd_client.private_key_pem
    }
    files = {
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
  }
}

# etcd's own security group: SSH only (etcd listens on the private network).
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

# --- etcd ------------------------------------------------------------------------

resource "exoscale_compute_instance" "etcd" {
  count                   = length(local.etcd_ips)
  zone                    = var.zone
  name                    = "${var.name}-etcd-${count.index + 1}"
  template_id             = module.pool.template_id
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
  template_id             = module.pool.template_id
  type                    = var.management_instance_type
  disk_size               = max(var.disk_size, 20)
  ssh_keys                = var.ssh_key_name == null ? null : [var.ssh_key_name]
  security_group_ids      = [module.pool.management_security_group_id]
  anti_affinity_group_ids = [exoscale_anti_affinity_group.management.id]
  # Base64 of gzip: the provider passes base64 through as is, cloud-init
  # unpacks it, and the dashboard and configs fit in the 32 KiB limit.
  user_data = base64gzip(module.pool.management_user_data)
  labels = {
    poolscale = var.name
  }

  network_interface {
    network_id = exoscale_private_network.ha.id
    ip_address = local.management_ips[count.index]
  }
}
