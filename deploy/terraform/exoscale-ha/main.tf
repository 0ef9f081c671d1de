# poolscale on Exoscale, highly available (docs/cloud.md "High
# availability", docs/ha.md): ../exoscale, called as module "pool", makes
# the instance pool, its NLB, the security groups and the user data;
# ../modules/etcd makes etcd's certificates and user data. This adds two
# management instances, each running Prometheus, Alertmanager, Grafana and
# a controller with the ha: block (one leads, the other follows), and a
# three-member etcd holding the leader key and the controllers' state.
# Everything but the public ports talks over a managed private network
# (10.0.0.0/24, static DHCP leases); etcd speaks TLS between members and to
# the controllers, which present a client certificate.

locals {
  # Static leases on the private network, outside its dynamic range.
  etcd_ips       = ["10.0.0.11", "10.0.0.12", "10.0.0.13"]
  management_ips = ["10.0.0.21", "10.0.0.22"]
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

  ha = module.etcd.management
}

# The TLS material, the members' user data and what the management
# instances add to theirs: shared with aws-ha (../modules/etcd).
module "etcd" {
  source = "../modules/etcd"

  name            = var.name
  etcd_ips        = local.etcd_ips
  management_ips  = local.management_ips
  private_network = true
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
  user_data               = base64gzip(module.etcd.user_data[count.index])
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
