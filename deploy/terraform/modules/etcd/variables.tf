variable "name" {
  description = "Prefix of the names: the cluster token and the certificates' subjects."
  type        = string
}

variable "etcd_ips" {
  description = "Private addresses of the members, in order: member i+1 is etcd-(i+1)."
  type        = list(string)
}

variable "management_ips" {
  description = "Private addresses of the management instances: every controller's alert webhook."
  type        = list(string)
}

variable "private_network" {
  description = "Whether the private addresses are on a second interface that cloud-init configures with deploy/cloud-init/private-network.sh (Exoscale), not on the only one (AWS)."
  type        = bool
  default     = false
}
