output "lb_address" {
  description = "IPv4 address of the network load balancer: the app is at http://LB_ADDRESS:8080/ (poolscale load --url http://LB_ADDRESS:8080/load)."
  value       = module.pool.lb_address
}

output "app_url" {
  description = "The app behind the NLB."
  value       = module.pool.app_url
}

output "management_address" {
  description = "Public IPv4 addresses of the two management instances (SSH as debian, Prometheus on :9090)."
  value       = exoscale_compute_instance.management[*].public_ip_address
}

output "grafana_url" {
  description = "Grafana on each management instance (user admin, password: terraform output -raw grafana_admin_password)."
  value       = [for ip in exoscale_compute_instance.management[*].public_ip_address : "http://${ip}:3000/"]
}

output "controller_api" {
  description = "Each controller's API, for poolscale status --api URL --token-file FILE; either says which one leads."
  value       = [for ip in exoscale_compute_instance.management[*].public_ip_address : "http://${ip}:9900"]
}

output "etcd_address" {
  description = "Public IPv4 addresses of the etcd members (SSH as debian; etcd itself listens on the private network)."
  value       = exoscale_compute_instance.etcd[*].public_ip_address
}

output "etcd_endpoints" {
  description = "etcd's client URLs on the private network (the controllers' ha.etcd_endpoints)."
  value       = module.etcd.endpoints
}

output "instance_pool_id" {
  description = "ID of the instance pool the controllers resize."
  value       = module.pool.instance_pool_id
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
