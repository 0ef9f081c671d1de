# The variables of ../aws, passed to module "pool", which documents and
# validates them (docs/cloud.md); etcd_instance_type is this variant's own.

variable "name" {
  description = "Prefix of every resource's name (../aws), also of the etcd instances."
  type        = string
  default     = "poolscale"
}

variable "region" {
  description = "AWS region of everything (../aws)."
  type        = string
  default     = "eu-west-1"
}

variable "instance_type" {
  description = "Instance type of the pool's members (../aws)."
  type        = string
  default     = "t3.small"
}

variable "management_instance_type" {
  description = "Instance type of the two management instances (each runs Prometheus, Alertmanager, Grafana and a controller)."
  type        = string
  default     = "t3.medium"
}

variable "etcd_instance_type" {
  description = "Instance type of the three etcd members. etcd holds a few small keys here (the leader key, the controllers' state)."
  type        = string
  default     = "t3.small"
}

variable "pool_min" {
  description = "Smallest size the controllers keep the pool at (../aws)."
  type        = number
  default     = 1
}

variable "pool_max" {
  description = "Largest size the controllers grow the pool to (../aws)."
  type        = number
  default     = 10
}

variable "pool_initial" {
  description = "Desired capacity the Auto Scaling group is created with (../aws)."
  type        = number
  default     = 1
}

variable "ssh_key_name" {
  description = "EC2 key pair to log in to the VMs as user admin, or null for none (../aws)."
  type        = string
  default     = null
}

variable "operator_cidr" {
  description = "Your address in CIDR notation (e.g. 203.0.113.7/32), the only source allowed to reach SSH, Prometheus, Grafana and the controllers' API (../aws)."
  type        = string
}

variable "poolscale_url" {
  description = "HTTPS URL of the poolscale Debian package (../aws, docs/cloud.md)."
  type        = string
}

variable "poolscale_sha256" {
  description = "SHA-256 of that package (../aws)."
  type        = string
}
