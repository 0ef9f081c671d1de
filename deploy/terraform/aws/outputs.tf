output "lb_address" {
  description = "DNS name of the Application Load Balancer: the app is at http://LB_ADDRESS:8080/. poolscale load takes a numeric address: resolve it first (getent hosts LB_ADDRESS)."
  value       = aws_lb.web.dns_name
}

output "app_url" {
  description = "The app behind the ALB."
  value       = "http://${aws_lb.web.dns_name}:8080/"
}

output "management_address" {
  description = "Public IPv4 address of the management instance (SSH as admin, Prometheus on :9090)."
  value       = one(aws_instance.management[*].public_ip)
}

output "grafana_url" {
  description = "Grafana on the management instance (user admin, password: terraform output -raw grafana_admin_password)."
  value       = one([for ip in aws_instance.management[*].public_ip : "http://${ip}:3000/"])
}

output "controller_api" {
  description = "The controller's API, for poolscale status --api URL --token-file FILE."
  value       = one([for ip in aws_instance.management[*].public_ip : "http://${ip}:9900"])
}

output "autoscaling_group" {
  description = "Name of the Auto Scaling group the controller resizes."
  value       = aws_autoscaling_group.web.name
}

output "api_token" {
  description = "Bearer token of the controller's API."
  value       = random_password.api_token.result
  sensitive   = true
}

output "grafana_admin_password" {
  description = "Password of Grafana's admin user."
  value       = random_password.grafana_admin.result
  sensitive   = true
}

# For deploy/terraform/aws-ha, which makes its own management instances
# from these.

output "ami_id" {
  description = "ID of the Debian AMI of every instance."
  value       = data.aws_ami.debian.id
}

output "vpc_id" {
  description = "ID of the default VPC everything goes in."
  value       = data.aws_vpc.default.id
}

output "subnet_ids" {
  description = "IDs of the default VPC's subnets (one per availability zone)."
  value       = data.aws_subnets.default.ids
}

output "management_security_group_id" {
  description = "ID of the management instances' security group."
  value       = aws_security_group.management.id
}

output "management_user_data" {
  description = "The management instances' cloud-init user data (holds the secrets)."
  value       = local.management_user_data
  sensitive   = true
}
