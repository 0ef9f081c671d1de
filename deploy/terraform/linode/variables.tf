variable "name" {
  description = "Prefix of every resource's label (NodeBalancer, firewalls, management instance) and of the pool's tag and instance labels."
  type        = string
  default     = "poolscale"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,30}$", var.name)) && !strcontains(var.name, "--")
    error_message = "The name must be lower-case letters, digits and single dashes, at most 31 characters, starting with a letter."
  }
}

variable "region" {
  description = "Linode region of everything (a NodeBalancer reaches members over the region's private network), e.g. eu-central, us-east, ap-south. The region must offer Metadata (cloud-init)."
  type        = string
  default     = "eu-central"
}

variable "image" {
  description = "Image of every instance; it must support cloud-init (Linode's own Debian 12 does). Debian 12, like the machine that builds the poolscale package."
  type        = string
  default     = "linode/debian12"
}

variable "instance_type" {
  description = "Plan of the pool's members (linode-cli linodes types)."
  type        = string
  default     = "g6-nanode-1"
}

variable "management_instance_type" {
  description = "Plan of the management instance (Prometheus, Alertmanager, Grafana, the controller)."
  type        = string
  default     = "g6-standard-2"
}

variable "pool_min" {
  description = "Smallest size the controller keeps the pool at."
  type        = number
  default     = 1
}

variable "pool_max" {
  description = "Largest size the controller grows the pool to."
  type        = number
  default     = 10
}

variable "pool_initial" {
  description = "The controller's first desired size: it creates these members itself (Linode has no instance pool, so Terraform creates none)."
  type        = number
  default     = 1
}

variable "authorized_keys" {
  description = "SSH public keys (OpenSSH lines) for root on every instance, members included."
  type        = list(string)
  default     = []
}

variable "operator_cidr" {
  description = "Your address in CIDR notation (e.g. 203.0.113.7/32): the only source allowed to reach SSH, Prometheus (9090), Grafana (3000) and the controller's API (9900)."
  type        = string

  validation {
    condition     = can(cidrhost(var.operator_cidr, 0)) && var.operator_cidr != "0.0.0.0/0"
    error_message = "operator_cidr must be a CIDR block such as 203.0.113.7/32, and not 0.0.0.0/0."
  }
}

variable "poolscale_url" {
  description = "HTTPS URL the VMs download the poolscale Debian package from. There are no official releases: build it with make deb on Debian 12 amd64 and upload build/deb/poolscale_VERSION_amd64.deb somewhere the VMs can read it, e.g. Linode Object Storage (docs/cloud.md)."
  type        = string

  validation {
    condition     = can(regex("^https?://", var.poolscale_url))
    error_message = "poolscale_url must be an http(s) URL."
  }
}

variable "poolscale_sha256" {
  description = "SHA-256 of that package (sha256sum build/deb/poolscale_*_amd64.deb): the VMs refuse any other file."
  type        = string

  validation {
    condition     = can(regex("^[0-9a-f]{64}$", var.poolscale_sha256))
    error_message = "poolscale_sha256 must be 64 lower-case hex digits."
  }
}

variable "linode_token" {
  description = "The controller's personal access token, scopes linodes:read_write and nodebalancers:read_write only, of an unrestricted user (only those may tag instances) (docs/cloud.md). Not Terraform's own token."
  type        = string
  sensitive   = true
}
