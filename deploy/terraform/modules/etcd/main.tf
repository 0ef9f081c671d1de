# etcd for the HA variants (deploy/terraform/exoscale-ha, aws-ha;
# docs/ha.md), without the machines, which differ by cloud: the TLS
# material, each member's cloud-init user data, and what the management
# instances add to theirs (the controllers' ha: block, etcd's CA and client
# certificate and key, every controller's alert webhook), in the shape of
# ../../exoscale's and ../../aws's ha variable.

locals {
  deploy = "${path.module}/../../.."
  cred   = "/run/credentials/poolscale-controller.service"

  endpoints = [for ip in var.etcd_ips : "https://${ip}:2379"]

  # Leader election and state in etcd (docs/ha.md). ha.name is left to its
  # default, the host name, which differs between the management instances.
  ha_config = <<-EOT
    # Added by the HA variant: one controller leads, the other follows; the
    # API listens on every address, so the other management instance's
    # Alertmanager reaches it over the private addresses.
    ha:
      etcd_endpoints: [${join(", ", local.endpoints)}]
      lease: 10s
      timeout: 2s
      ca_file: ${local.cred}/etcd-ca
      cert_file: ${local.cred}/etcd-client-cert
      key_file: ${local.cred}/etcd-client-key
  EOT

  # Exoscale's private network is a second interface, which the script
  # configures; on AWS the one interface has the private address.
  private_network_script = var.private_network ? file("${local.deploy}/cloud-init/private-network.sh") : ""

  # One per member: its name and address, the same cluster, CA and member
  # certificate.
  user_data = [for i, ip in var.etcd_ips : templatefile("${local.deploy}/cloud-init/etcd.yaml", {
    member_name            = "etcd-${i + 1}"
    member_ip              = ip
    initial_cluster        = join(",", [for j, peer in var.etcd_ips : "etcd-${j + 1}=https://${peer}:2380"])
    cluster_token          = "${var.name}-etcd"
    private_network_script = local.private_network_script
    etcd_dropin            = file("${local.deploy}/systemd/etcd.service.d/poolscale.conf")
    ca_cert                = tls_self_signed_cert.etcd_ca.cert_pem
    server_cert            = tls_locally_signed_cert.etcd_server.cert_pem
    server_key             = tls_private_key.etcd_server.private_key_pem
  })]

  # Files for the management instances, beside the single deployment's.
  management_files = merge(
    {
      "/etc/poolscale/etcd-ca.pem"     = { mode = "0644", content = tls_self_signed_cert.etcd_ca.cert_pem }
      "/etc/poolscale/etcd-client.pem" = { mode = "0644", content = tls_locally_signed_cert.etcd_client.cert_pem }
      "/etc/systemd/system/poolscale-controller.service.d/etcd.conf" = {
        mode    = "0644"
        content = file("${local.deploy}/systemd/poolscale-controller.service.d/etcd.conf")
      }
    },
    var.private_network ? {
      "/usr/local/sbin/poolscale-private-network" = { mode = "0755", content = local.private_network_script }
    } : {},
  )
}

# --- etcd's certificates -----------------------------------------------------
# A CA of this deployment's own; one certificate for the three members
# (server and peer, valid for their three private addresses) and one client
# certificate for the controllers. etcd admits only clients with a
# certificate from this CA (--client-cert-auth). Five years; renewing them
# is `terraform apply -replace=module.etcd.tls_...` and a restart of etcd
# and the controllers (docs/ha.md).

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
  ip_addresses    = concat(var.etcd_ips, ["127.0.0.1"])

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
