# poolscale on AWS, highly available (docs/cloud.md "High availability",
# docs/ha.md): ../aws, called as module "pool", makes the Auto Scaling
# group, the ALB, the security groups, the controller's IAM user and the
# user data; ../modules/etcd makes etcd's certificates and user data. This
# adds two management instances, each running Prometheus, Alertmanager,
# Grafana and a controller with the ha: block (one leads, the other
# follows), and a three-member etcd holding the leader key and the
# controllers' state, all in the region's default VPC, spread over its
# first three subnets (availability zones). etcd speaks TLS between members
# and to the controllers, which present a client certificate; security
# groups keep its ports to the management instances and the members.

locals {
  # Fixed private addresses (the certificates and the controllers' config
  # name them before the instances exist): host 11-13 of the etcd members'
  # subnets, 21-22 of the management instances'. AWS refuses an address
  # already taken in the subnet: docs/cloud.md.
  etcd_ips       = [for i, s in data.aws_subnet.spread : cidrhost(s.cidr_block, 11 + i)]
  management_ips = [for i, s in data.aws_subnet.spread : cidrhost(s.cidr_block, 21 + i) if i < 2]
}

# Three subnets (availability zones) of the default VPC: etcd members in
# the first three, management instances in the first two. A region with
# fewer default subnets puts two members in one zone (count.index wraps).
data "aws_subnet" "spread" {
  count = 3
  id    = sort(module.pool.subnet_ids)[count.index % length(module.pool.subnet_ids)]
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

  ha = module.etcd.management
}

# The TLS material, the members' user data and what the management
# instances add to theirs: shared with exoscale-ha (../modules/etcd).
module "etcd" {
  source = "../modules/etcd"

  name           = var.name
  etcd_ips       = local.etcd_ips
  management_ips = local.management_ips
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
  user_data_base64            = base64gzip(module.etcd.user_data[count.index])

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
