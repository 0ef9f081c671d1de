# The variables of ../exoscale, passed to module "pool", which documents and
# validates them (docs/cloud.md); etcd_instance_type is this variant's own.

variable "name" {
  description = "Prefix of every resource's name (../exoscale), also of the private network and the etcd instances."
  type        = string
  default     = "poolscale"
}

variable "zone" {
  description = "Exoscale zone of everything (../exoscale)."
  type        = string
  default     = "ch-gva-2"
}

variable "template_name" {
  description = "Exoscale template of all VMs (../exoscale)."
  type        = string
  default     = "Linux Debian 12 (Bookworm) 64-bit"
}

variable "instance_type" {
  description = "Instance type of the pool's members (../exoscale)."
  type        = string
  default     = "standard.small"
}

variable "management_instance_type" {
  description = "Instance type of the two management instances (each runs Prometheus, Alertmanager, Grafana and a controller)."
  type        = string
  default     = "standard.medium"
}

variable "etcd_instance_type" {
  description = "Instance type of the three etcd members. etcd holds a few small keys here (the leader key, the controller's state); standard.small (2 GB) follows etcd's smallest recommended size, standard.tiny works too."
  type        = string
  default     = "standard.small"
}

variable "disk_size" {
  description = "Disk size of every VM, in GiB (../exoscale)."
  type        = number
  default     = 10
}

variable "pool_min" {
  description = "Smallest size the controllers keep the pool at (../exoscale)."
  type        = number
  default     = 1
}

variable "pool_max" {
  description = "Largest size the controllers grow the pool to (../exoscale)."
  type        = number
  default     = 10
}

variable "pool_initial" {
  description = "Size the instance pool is created with (../exoscale)."
  type        = number
  default     = 1
}

variable "ssh_key_name" {
  description = "Exoscale SSH key to log in to the VMs as user debian, or null for none (../exoscale)."
  type        = string
  default     = null
}

variable "operator_cidr" {
  description = "Your address in CIDR notation (e.g. 203.0.113.7/32), the only source allowed to reach SSH, Prometheus, Grafana and the controllers' API (../exoscale)."
  type        = string
}

variable "poolscale_url" {
  description = "HTTPS URL of the poolscale Debian package (../exoscale, docs/cloud.md)."
  type        = string
}

variable "poolscale_sha256" {
  description = "SHA-256 of that package (../exoscale)."
  type        = string
}

variable "exoscale_api_key" {
  description = "API key of the controllers' restricted IAM role (../exoscale, docs/cloud.md). Not Terraform's own key."
  type        = string
  sensitive   = true
}

variable "exoscale_api_secret" {
  description = "Secret of that API key."
  type        = string
  sensitive   = true
}
