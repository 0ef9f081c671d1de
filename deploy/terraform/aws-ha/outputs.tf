output "lb_address" {
  description = "DNS name of the Application Load Balancer: the app is at http://LB_ADDRESS:8080/. poolscale load takes a numeric address: resolve it first (getent hosts LB_ADDRESS)."
  value       = module.pool.lb_address
}

output "app_url" {
  description = "The app behind the ALB."
  value       = module.pool.app_url
}

output "management_address" {
  description = "Public IPv4 addresses of the two management instances (SSH as admin, Prometheus on :9090)."
  value       = aws_instance.management[*].public_ip
}

output "grafana_url" {
  description = "Grafana on each management instance (user admin, password: terraform output -raw grafana_admin_password)."
  value       = [for ip in aws_instance.management[*].public_ip : "http://${ip}:3000/"]
}

output "controller_api" {
  description = "Each controller's API, for poolscale status --api URL --token-file FILE; either says which one leads."
  value       = [for ip in aws_instance.management[*].public_ip : "http://${ip}:9900"]
}

output "etcd_address" {
  description = "Public IPv4 addresses of the etcd members (SSH as admin)."
  value       = aws_instance.etcd[*].public_ip
}

output "etcd_endpoints" {
  description = "etcd's client URLs (private addresses) (the controllers' ha.etcd_endpoints)."
  value       = module.etcd.endpoints
}

output "autoscaling_group" {
  description = "Name of the Auto Scaling group the controllers resize."
  value       = module.pool.autoscaling_group
}

output "api_token" {
  description = "Bearer token of the controllers' API."
  value       = module.pool.api_token
  sensitive   = true
}

output "grafana_admin_password" {
  description = "Password of Grafana's admin user."
  value       = module.pool.grafana_admin_password
  sensitive   = true
}
