output "endpoints" {
  description = "etcd's client URLs (the controllers' ha.etcd_endpoints)."
  value       = local.endpoints
}

output "user_data" {
  description = "Each member's cloud-init user data, in the order of etcd_ips (holds the members' key)."
  value       = local.user_data
  sensitive   = true
}

output "management" {
  description = "What the management instances' user data adds, for the ha variable of ../../exoscale and ../../aws (holds the controllers' client key)."
  value = {
    controller_config = local.ha_config
    alert_webhooks    = [for ip in var.management_ips : "http://${ip}:9900/api/v1/alerts"]
    files             = local.management_files
    private_files = {
      "/etc/poolscale/etcd-client-key.pem" = tls_private_key.etcd_client.private_key_pem
    }
  }
  sensitive = true
}
