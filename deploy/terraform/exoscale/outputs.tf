output "lb_address" {
  description = "IPv4 address of the network load balancer: the app is at http://LB_ADDRESS:8080/ (poolscale load --url http://LB_ADDRESS:8080/load)."
  value       = exoscale_nlb.web.ip_address
}

output "app_url" {
  description = "The app behind the NLB."
  value       = "http://${exoscale_nlb.web.ip_address}:8080/"
}

output "management_address" {
  description = "Public IPv4 address of the management instance (SSH as debian, Prometheus on :9090)."
  value       = one(exoscale_compute_instance.management[*].public_ip_address)
}

output "grafana_url" {
  description = "Grafana on the management instance (user admin, password: terraform output -raw grafana_admin_password)."
  value       = one([for ip in exoscale_compute_instance.management[*].public_ip_address : "http://${ip}:3000/"])
}

output "controller_api" {
  description = "The controller's API, for poolscale status --api URL --token-file FILE."
  value       = one([for ip in exoscale_compute_instance.management[*].public_ip_address : "http://${ip}:9900"])
}

output "instance_pool_id" {
  description = "ID of the instance pool the controller resizes."
  value       = exoscale_instance_pool.web.id
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

# For deploy/terraform/exoscale-ha, which makes its own management instances
# from these.

output "template_id" {
  description = "ID of the Debian template of every VM."
  value       = data.exoscale_template.debian.id
}

output "management_security_group_id" {
  description = "ID of the management instances' security group."
  value       = exoscale_security_group.management.id
}

output "management_user_data" {
  description = "The management instances' cloud-init user data (holds the secrets)."
  value       = local.management_user_data
  sensitive   = true
}
