# poolscale on AWS: an Auto Scaling group of `poolscale app` VMs behind an
# Application Load Balancer, and a management instance running Prometheus,
# Alertmanager, Grafana and the poolscale controller, which resizes the
# group through the Auto Scaling API. Everything goes in the region's
# default VPC. Step by step: docs/cloud.md.
# deploy/terraform/aws-ha calls this directory as its module "pool",
# with var.ha set (no management instance here; what the HA ones' user
# data adds): one definition of the group, the ALB, the security
# groups, the controller's IAM user and the user data.

locals {
  deploy = "${path.module}/../.."

  # The controller's configuration (docs/configuration.md,
  # docs/providers.md). No secret in it: the access key and the API token
  # are systemd credentials of the unit (deploy/systemd).
  pool_config = <<-EOT
    # Written by deploy/terraform/aws. Every key: docs/configuration.md.
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
        credentials_file: /run/credentials/poolscale-controller.service/aws-credentials
        profile: default
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
    controller_dropin = file("${local.deploy}/systemd/poolscale-controller.service.d/aws.conf")
    alert_webhooks    = var.ha == null ? ["http://127.0.0.1:9900/api/v1/alerts"] : var.ha.alert_webhooks
    extra_files       = var.ha == null ? {} : var.ha.files
    # poolscale sd needs no etcd: it gets the pool's part only.
    sd_config          = replace(local.pool_config, "poolscale-controller.service", "poolscale-sd.service")
    sd_dropin          = file("${local.deploy}/systemd/poolscale-sd.service.d/aws.conf")
    prometheus_rules   = file("${local.deploy}/prometheus/rules/poolscale.yml")
    grafana_datasource = file("${local.deploy}/grafana/provisioning/datasources/prometheus.yaml")
    grafana_dashboards = file("${local.deploy}/grafana/provisioning/dashboards/poolscale.yaml")
    grafana_dashboard  = file("${local.deploy}/grafana/dashboards/poolscale.json")
    secret_files = merge({
      "/etc/poolscale/aws-credentials" = "[default]\naws_access_key_id = ${aws_iam_access_key.controller.id}\naws_secret_access_key = ${aws_iam_access_key.controller.secret}\n"
      "/etc/poolscale/api-token"       = random_password.api_token.result
      "/etc/grafana/poolscale.env"     = "GF_SECURITY_ADMIN_PASSWORD=${random_password.grafana_admin.result}\nPOOLSCALE_API_TOKEN=${random_password.api_token.result}\n"
    }, var.ha == null ? {} : var.ha.private_files)
  })
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

# --- The management instance -----------------------------------------------

# None when var.ha is set: the caller makes its own (aws-ha: two, in two
# zones). With count the instance is management[0] in the state, which
# Terraform moves to by itself: an existing one stays.
resource "aws_instance" "management" {
  count                       = var.ha == null ? 1 : 0
  ami                         = data.aws_ami.debian.id
  instance_type               = var.management_instance_type
  subnet_id                   = sort(data.aws_subnets.default.ids)[0]
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
    Name = "${var.name}-management"
  }
}
