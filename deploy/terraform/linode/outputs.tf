output "lb_address" {
  description = "IPv4 address of the NodeBalancer: the app is at http://LB_ADDRESS:8080/ (poolscale load --url http://LB_ADDRESS:8080/load)."
  value       = linode_nodebalancer.web.ipv4
}

output "app_url" {
  description = "The app behind the NodeBalancer."
  value       = "http://${linode_nodebalancer.web.ipv4}:8080/"
}

output "management_address" {
  description = "Public IPv4 address of the management instance (SSH as root, Prometheus on :9090)."
  value       = linode_instance.management.ip_address
}

output "grafana_url" {
  description = "Grafana on the management instance (user admin, password: terraform output -raw grafana_admin_password)."
  value       = "http://${linode_instance.management.ip_address}:3000/"
}

output "controller_api" {
  description = "The controller's API, for poolscale status --api URL --token-file FILE."
  value       = "http://${linode_instance.management.ip_address}:9900"
}

output "pool_tag" {
  description = "The tag of the pool's instances: linode-cli linodes list --tags TAG."
  value       = local.pool_tag
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
