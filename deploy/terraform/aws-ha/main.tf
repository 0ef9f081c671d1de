# poolscale on AWS, highly available (docs/cloud.md "High availability",
# docs/ha.md): the Auto Scaling group and ALB as in ../aws, two management
# instances, each running Prometheus, Alertmanager, Grafana and a
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

  # The controller's configuration (docs/configuration.md,
  # docs/providers.md), the same on both management instances: ha.name is
  # left to its default, the host name, which differs (ip-172-31-...).
  # No secret in it: the access key, the API token and etcd's client
  # certificate are systemd credentials of the unit (deploy/systemd).
  pool_config = <<-EOT
    # Written by deploy/terraform/aws-ha. Every key: docs/configuration.md.
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
      kind: aws
      app_port: 8080
      metrics_port: 9100
      aws:
        region: ${var.region}
        group: ${aws_autoscaling_group.web.name}
        address: private
        # poolscale does not read instance-profile credentials from the
        # instance metadata service: an IAM user's key, as a shared
        # credentials file.
        credentials_file: ${local.cred}/aws-credentials
        profile: default
    discovery:
      dir: /var/lib/poolscale
    # Every address: the other management instance's Alertmanager posts
    # its alerts here (the security groups allow it and the operator only).
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
    controller_dropin = file("${local.deploy}/systemd/poolscale-controller.service.d/aws.conf")
    alert_webhooks    = [for ip in local.management_ips : "http://${ip}:9900/api/v1/alerts"]
    # poolscale sd needs no etcd: it gets the pool's part only.
    sd_config          = replace(local.pool_config, "poolscale-controller.service", "poolscale-sd.service")
    sd_dropin          = file("${local.deploy}/systemd/poolscale-sd.service.d/aws.conf")
    prometheus_rules   = file("${local.deploy}/prometheus/rules/poolscale.yml")
    grafana_datasource = file("${local.deploy}/grafana/provisioning/datasources/prometheus.yaml")
    grafana_dashboards = file("${local.deploy}/grafana/provisioning/dashboards/poolscale.yaml")
    grafana_dashboard  = file("${local.deploy}/grafana/dashboards/poolscale.json")
    secret_files = {
      "/etc/poolscale/aws-credentials"     = "[default]\naws_access_key_id = ${aws_iam_access_key.controller.id}\naws_secret_access_key = ${aws_iam_access_key.controller.secret}\n"
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
    }
  })

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

data "aws_vpc" "default" {
  default = true
}

data "aws_subnets" "default" {
  filter {
    name   = "vpc-id"
    values = [data.aws_vpc.default.id]
  }
}

# Three subnets (availability zones) of the default VPC: etcd members in
# the first three, management instances in the first two. A region with
# fewer default subnets puts two members in one zone (count.index wraps).
data "aws_subnet" "spread" {
  count = 3
  id    = sort(data.aws_subnets.default.ids)[count.index % length(data.aws_subnets.default.ids)]
}

# Debian 12, from the Debian cloud team's account, like the machine that
# builds the poolscale package.
data "aws_ami" "debian" {
  most_recent = true
  owners      = ["136693071363"]

  filter {
    name   = "name"
    values = ["debian-12-amd64-*"]
  }

  filter {
    name   = "architecture"
    values = ["x86_64"]
  }
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

# --- Security groups ---------------------------------------------------------

resource "aws_security_group" "alb" {
  name        = "${var.name}-alb"
  description = "poolscale ALB: the app port for everyone"
  vpc_id      = data.aws_vpc.default.id
}

resource "aws_security_group" "pool" {
  name        = "${var.name}-pool"
  description = "poolscale pool members: the app for the ALB and the controller, metrics for Prometheus"
  vpc_id      = data.aws_vpc.default.id
}

resource "aws_security_group" "management" {
  name        = "${var.name}-management"
  description = "poolscale management instance: Prometheus, Grafana and the controller API for the operator"
  vpc_id      = data.aws_vpc.default.id
}

resource "aws_security_group" "etcd" {
  name        = "${var.name}-etcd"
  description = "poolscale etcd members: clients from the management instances, peers from each other"
  vpc_id      = data.aws_vpc.default.id
}

resource "aws_vpc_security_group_ingress_rule" "etcd_client" {
  security_group_id            = aws_security_group.etcd.id
  description                  = "etcd clients: the controllers (TLS, client certificate)"
  ip_protocol                  = "tcp"
  referenced_security_group_id = aws_security_group.management.id
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

resource "aws_vpc_security_group_ingress_rule" "management_api_peers" {
  security_group_id            = aws_security_group.management.id
  description                  = "poolscale controller API: the other management instance's Alertmanager"
  ip_protocol                  = "tcp"
  referenced_security_group_id = aws_security_group.management.id
  from_port                    = 9900
  to_port                      = 9900
}

resource "aws_vpc_security_group_ingress_rule" "alb_app" {
  security_group_id = aws_security_group.alb.id
  description       = "poolscale app through the ALB"
  ip_protocol       = "tcp"
  cidr_ipv4         = "0.0.0.0/0"
  from_port         = 8080
  to_port           = 8080
}

resource "aws_vpc_security_group_ingress_rule" "pool_app_from_alb" {
  security_group_id            = aws_security_group.pool.id
  description                  = "poolscale app: ALB traffic and health checks"
  ip_protocol                  = "tcp"
  referenced_security_group_id = aws_security_group.alb.id
  from_port                    = 8080
  to_port                      = 8080
}

resource "aws_vpc_security_group_ingress_rule" "pool_app_from_management" {
  security_group_id            = aws_security_group.pool.id
  description                  = "poolscale app: the controller's health checks, Prometheus's pool-app job"
  ip_protocol                  = "tcp"
  referenced_security_group_id = aws_security_group.management.id
  from_port                    = 8080
  to_port                      = 8080
}

resource "aws_vpc_security_group_ingress_rule" "pool_metrics" {
  security_group_id            = aws_security_group.pool.id
  description                  = "node exporter, scraped by Prometheus on the management instance"
  ip_protocol                  = "tcp"
  referenced_security_group_id = aws_security_group.management.id
  from_port                    = 9100
  to_port                      = 9100
}

resource "aws_vpc_security_group_ingress_rule" "pool_ssh" {
  security_group_id = aws_security_group.pool.id
  description       = "SSH from the operator"
  ip_protocol       = "tcp"
  cidr_ipv4         = var.operator_cidr
  from_port         = 22
  to_port           = 22
}

resource "aws_vpc_security_group_ingress_rule" "management_prometheus" {
  security_group_id = aws_security_group.management.id
  description       = "Prometheus from the operator"
  ip_protocol       = "tcp"
  cidr_ipv4         = var.operator_cidr
  from_port         = 9090
  to_port           = 9090
}

resource "aws_vpc_security_group_ingress_rule" "management_grafana" {
  security_group_id = aws_security_group.management.id
  description       = "Grafana from the operator"
  ip_protocol       = "tcp"
  cidr_ipv4         = var.operator_cidr
  from_port         = 3000
  to_port           = 3000
}

resource "aws_vpc_security_group_ingress_rule" "management_api" {
  security_group_id = aws_security_group.management.id
  description       = "poolscale controller API (bearer token) from the operator"
  ip_protocol       = "tcp"
  cidr_ipv4         = var.operator_cidr
  from_port         = 9900
  to_port           = 9900
}

resource "aws_vpc_security_group_ingress_rule" "management_ssh" {
  security_group_id = aws_security_group.management.id
  description       = "SSH from the operator"
  ip_protocol       = "tcp"
  cidr_ipv4         = var.operator_cidr
  from_port         = 22
  to_port           = 22
}

# Outbound: Debian mirrors, the package's URL, the AWS APIs, the members.
resource "aws_vpc_security_group_egress_rule" "alb_all" {
  security_group_id = aws_security_group.alb.id
  description       = "to the members"
  ip_protocol       = "-1"
  cidr_ipv4         = "0.0.0.0/0"
}

resource "aws_vpc_security_group_egress_rule" "pool_all" {
  security_group_id = aws_security_group.pool.id
  description       = "package mirrors and the binary's URL"
  ip_protocol       = "-1"
  cidr_ipv4         = "0.0.0.0/0"
}

resource "aws_vpc_security_group_egress_rule" "etcd_all" {
  security_group_id = aws_security_group.etcd.id
  description       = "package mirrors, the other members"
  ip_protocol       = "-1"
  cidr_ipv4         = "0.0.0.0/0"
}

resource "aws_vpc_security_group_egress_rule" "management_all" {
  security_group_id = aws_security_group.management.id
  description       = "package mirrors, the AWS APIs, the members"
  ip_protocol       = "-1"
  cidr_ipv4         = "0.0.0.0/0"
}

# --- The pool and its load balancer ----------------------------------------

resource "aws_launch_template" "web" {
  name_prefix            = "${var.name}-web-"
  description            = "poolscale app members"
  image_id               = data.aws_ami.debian.id
  instance_type          = var.instance_type
  key_name               = var.ssh_key_name
  vpc_security_group_ids = [aws_security_group.pool.id]
  user_data              = base64encode(local.app_user_data)
  update_default_version = true

  metadata_options {
    http_endpoint = "enabled"
    http_tokens   = "required"
  }

  tag_specifications {
    resource_type = "instance"
    tags = {
      Name = "${var.name}-web"
    }
  }
}

resource "aws_autoscaling_group" "web" {
  name                      = "${var.name}-web"
  min_size                  = var.pool_min
  max_size                  = var.pool_max
  desired_capacity          = var.pool_initial
  vpc_zone_identifier       = data.aws_subnets.default.ids
  health_check_type         = "EC2"
  health_check_grace_period = 300

  launch_template {
    id      = aws_launch_template.web.id
    version = aws_launch_template.web.latest_version
  }

  lifecycle {
    # The controller owns the desired capacity once the group exists (a later
    # apply must not put it back), and aws_autoscaling_attachment owns the
    # target group.
    ignore_changes = [desired_capacity, target_group_arns]

    precondition {
      condition     = var.pool_min <= var.pool_initial && var.pool_initial <= var.pool_max
      error_message = "pool_initial must be between pool_min and pool_max."
    }
  }
}

resource "aws_lb" "web" {
  name               = "${var.name}-web"
  load_balancer_type = "application"
  internal           = false
  security_groups    = [aws_security_group.alb.id]
  subnets            = data.aws_subnets.default.ids
}

resource "aws_lb_target_group" "web" {
  name        = "${var.name}-web"
  port        = 8080
  protocol    = "HTTP"
  vpc_id      = data.aws_vpc.default.id
  target_type = "instance"
  # A member leaving the group gets this long for its requests in flight.
  deregistration_delay = 30

  # The app answers 503 while booting and while draining after SIGTERM.
  health_check {
    path                = "/health"
    port                = "traffic-port"
    protocol            = "HTTP"
    matcher             = "200"
    interval            = 10
    timeout             = 5
    healthy_threshold   = 2
    unhealthy_threshold = 2
  }
}

resource "aws_lb_listener" "web" {
  load_balancer_arn = aws_lb.web.arn
  port              = 8080
  protocol          = "HTTP"

  default_action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.web.arn
  }
}

# Every instance the group launches registers with the target group.
resource "aws_autoscaling_attachment" "web" {
  autoscaling_group_name = aws_autoscaling_group.web.name
  lb_target_group_arn    = aws_lb_target_group.web.arn
}

# --- The controller's AWS identity -------------------------------------------
# poolscale signs its own requests and does not read instance-profile
# credentials from the metadata service, so it gets an IAM user's access key
# (in the Terraform state: keep the state private). The policy allows
# exactly what the aws provider calls: describe the group and its
# instances, set the desired capacity, terminate a chosen member.

resource "aws_iam_user" "controller" {
  name = "${var.name}-controller"
  path = "/poolscale/"
}

resource "aws_iam_access_key" "controller" {
  user = aws_iam_user.controller.name
}

resource "aws_iam_user_policy" "controller" {
  name = "${var.name}-controller"
  user = aws_iam_user.controller.name
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid      = "Describe"
        Effect   = "Allow"
        Action   = ["autoscaling:DescribeAutoScalingGroups", "ec2:DescribeInstances"]
        Resource = "*"
      },
      {
        Sid      = "ResizeThisGroup"
        Effect   = "Allow"
        Action   = ["autoscaling:SetDesiredCapacity", "autoscaling:TerminateInstanceInAutoScalingGroup"]
        Resource = aws_autoscaling_group.web.arn
      },
    ]
  })
}

# --- etcd ------------------------------------------------------------------------

resource "aws_instance" "etcd" {
  count                       = length(local.etcd_ips)
  ami                         = data.aws_ami.debian.id
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
  ami                         = data.aws_ami.debian.id
  instance_type               = var.management_instance_type
  subnet_id                   = data.aws_subnet.spread[count.index].id
  private_ip                  = local.management_ips[count.index]
  vpc_security_group_ids      = [aws_security_group.management.id]
  key_name                    = var.ssh_key_name
  associate_public_ip_address = true
  # Gzipped: the dashboard and configs would not fit the 16 KiB limit raw.
  user_data_base64            = base64gzip(local.management_user_data)
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
