# poolscale on AWS, highly available (docs/cloud.md "High availability",
# docs/ha.md): the Auto Scaling group, the ALB, the security groups, the
# controller's IAM user and the user data come from ../aws, called as
# module "pool"; this adds two management instances, each running Prometheus, Alertmanager, Grafana and a
# controller with the ha: block (one leads, the other follows), and a
# three-member etcd holding the leader key and the controllers' state, all
# in the region's default VPC, spread over its first three subnets
# (availability zones). etcd speaks TLS between members and to the
# controllers, which present a client certificate; security groups keep
# its ports to the management instances and the members.

locals {
  deploy = "${path.module}/../.."

  # Fixed private addresses (the certificates and the controllers' config
  # name them before the instances exist): host 11-13 of the etcd members'
  # subnets, 21-22 of the management instances'. AWS refuses an address
  # already taken in the subnet: docs/cloud.md.
  etcd_ips       = [for i, s in data.aws_subnet.spread : cidrhost(s.cidr_block, 11 + i)]
  management_ips = [for i, s in data.aws_subnet.spread : cidrhost(s.cidr_block, 21 + i) if i < 2]
  etcd_endpoints = [for ip in local.etcd_ips : "https://${ip}:2379"]
  cred           = "/run/credentials/poolscale-controller.service"

  # Leader election and state in etcd (docs/ha.md).
  ha_config = <<-EOT
    # Added by deploy/terraform/aws-ha: one controller leads, the other
    # follows; the API listens on every address, so the other management
    # instance's Alertmanager reaches it (the security groups allow it).
    ha:
      etcd_endpoints: [${join(", ", local.etcd_endpoints)}]
      lease: 10s
      timeout: 2s
      ca_file: ${local.cred}/etcd-ca
      cert_file: ${local.cred}/etcd-client-cert
      key_file: ${local.cred}/etcd-client-key
  EOT

  # One per etcd member: its name and address, the same cluster, CA and
  # member certificate. No private network script: the one interface has
  # the private address.
  etcd_user_data = [for i, ip in local.etcd_ips : templatefile("${local.deploy}/cloud-init/etcd.yaml", {
    member_name            = "etcd-${i + 1}"
    member_ip              = ip
    initial_cluster        = join(",", [for j, peer in local.etcd_ips : "etcd-${j + 1}=https://${peer}:2380"])
    cluster_token          = "${var.name}-etcd"
    private_network_script = ""
    etcd_dropin            = file("${local.deploy}/systemd/etcd.service.d/poolscale.conf")
    ca_cert                = tls_self_signed_cert.etcd_ca.cert_pem
    server_cert            = tls_locally_signed_cert.etcd_server.cert_pem
    server_key             = tls_private_key.etcd_server.private_key_pem
  })]
}

# Three subnets (availability zones) of the default VPC: etcd members in
# the first three, management instances in the first two. A region with
# fewer default subnets puts two members in one zone (count.index wraps).
data "aws_subnet" "spread" {
  count = 3
  id    = sort(module.pool.subnet_ids)[count.index % length(module.pool.subnet_ids)]
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

# --- The group, its ALB, the security groups, the user data ------------------
# ../aws with ha set: no management instance there (they are below), and
# their user data gets the ha: block, every controller's alert webhook and
# the etcd files.

module "pool" {
  source = "../aws"

  name             = var.name
  region           = var.region
  instance_type    = var.instance_type
  pool_min         = var.pool_min
  pool_max         = var.pool_max
  pool_initial     = var.pool_initial
  ssh_key_name     = var.ssh_key_name
  operator_cidr    = var.operator_cidr
  poolscale_url    = var.poolscale_url
  poolscale_sha256 = var.poolscale_sha256

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
    }
  }
}

# --- Security groups: etcd's, and the controllers' API to each other -----------

resource "aws_security_group" "etcd" {
  name        = "${var.name}-etcd"
  description = "poolscale etcd members: clients from the management instances, peers from each other"
  vpc_id      = module.pool.vpc_id
}

resource "aws_vpc_security_group_ingress_rule" "etcd_client" {
  security_group_id            = aws_security_group.etcd.id
  description                  = "etcd clients: the controllers (TLS, client certificate)"
  ip_protocol                  = "tcp"
  referenced_security_group_id = module.pool.management_security_group_id
  from_port                    = 2379
  to_port                      = 2379
}

resource "aws_vpc_security_group_ingress_rule" "etcd_peer" {
  security_group_id            = aws_security_group.etcd.id
  description                  = "etcd peers (TLS, member certificate)"
  ip_protocol                  = "tcp"
  referenced_security_group_id = aws_security_group.etcd.id
  from_port                    = 2380
  to_port                      = 2380
}

resource "aws_vpc_security_group_ingress_rule" "etcd_ssh" {
  security_group_id = aws_security_group.etcd.id
  description       = "SSH from the operator"
  ip_protocol       = "tcp"
  cidr_ipv4         = var.operator_cidr
  from_port         = 22
  to_port           = 22
}

resource "aws_vpc_security_group_egress_rule" "etcd_all" {
  security_group_id = aws_security_group.etcd.id
  description       = "package mirrors, the other members"
  ip_protocol       = "-1"
  cidr_ipv4         = "0.0.0.0/0"
}

resource "aws_vpc_security_group_ingress_rule" "management_api_peers" {
  security_group_id            = module.pool.management_security_group_id
  description                  = "poolscale controller API: the other management instance's Alertmanager"
  ip_protocol                  = "tcp"
  referenced_security_group_id = module.pool.management_security_group_id
  from_port                    = 9900
  to_port                      = 9900
}

# --- etcd ------------------------------------------------------------------------

resource "aws_instance" "etcd" {
  count                       = length(local.etcd_ips)
  ami                         = module.pool.ami_id
  instance_type               = var.etcd_instance_type
  subnet_id                   = data.aws_subnet.spread[count.index].id
  private_ip                  = local.etcd_ips[count.index]
  vpc_security_group_ids      = [aws_security_group.etcd.id]
  key_name                    = var.ssh_key_name
  associate_public_ip_address = true
  user_data_base64            = base64gzip(local.etcd_user_data[count.index])

  metadata_options {
    http_endpoint = "enabled"
    http_tokens   = "required"
  }

  root_block_device {
    volume_type           = "gp3"
    volume_size           = 10
    delete_on_termination = true
  }

  tags = {
    Name = "${var.name}-etcd-${count.index + 1}"
  }

  lifecycle {
    # A new Debian image or user data must not replace the members (all
    # three at once would lose the cluster): replace one at a time, by
    # hand (docs/ha.md, Operating it).
    ignore_changes = [ami, user_data_base64]
  }
}

# --- The management instances ------------------------------------------------

resource "aws_instance" "management" {
  count                       = length(local.management_ips)
  ami                         = module.pool.ami_id
  instance_type               = var.management_instance_type
  subnet_id                   = data.aws_subnet.spread[count.index].id
  private_ip                  = local.management_ips[count.index]
  vpc_security_group_ids      = [module.pool.management_security_group_id]
  key_name                    = var.ssh_key_name
  associate_public_ip_address = true
  # Gzipped: the dashboard and configs would not fit the 16 KiB limit raw.
  user_data_base64            = base64gzip(module.pool.management_user_data)
  user_data_replace_on_change = true

  metadata_options {
    http_endpoint = "enabled"
    http_tokens   = "required"
  }

  root_block_device {
    volume_type           = "gp3"
    volume_size           = 20
    delete_on_termination = true
  }

  tags = {
    Name = "${var.name}-management-${count.index + 1}"
  }
}
