variable "name" {
  description = "Prefix of every resource's name (instance pool, NLB, security groups, management instance)."
  type        = string
  default     = "poolscale"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,30}$", var.name))
    error_message = "The name must be lower-case letters, digits and dashes, at most 31 characters, starting with a letter."
  }
}

variable "zone" {
  description = "Exoscale zone of everything (instance pools and NLBs are zone-local), e.g. ch-gva-2, de-fra-1, at-vie-1."
  type        = string
  default     = "ch-gva-2"
}

variable "template_name" {
  description = "Name of the public Exoscale template of all VMs (list them with `exo compute instance-template list`). Debian 12, like the machine that builds the poolscale package."
  type        = string
  default     = "Linux Debian 12 (Bookworm) 64-bit"
}

variable "instance_type" {
  description = "Instance type of the pool's members (FAMILY.SIZE)."
  type        = string
  default     = "standard.small"
}

variable "management_instance_type" {
  description = "Instance type of the management instance (Prometheus, Alertmanager, Grafana, the controller)."
  type        = string
  default     = "standard.medium"
}

variable "disk_size" {
  description = "Disk size of every VM, in GiB."
  type        = number
  default     = 10
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
  description = "Size the instance pool is created with, and the controller's first desired size. Later the controller owns the size: Terraform ignores it."
  type        = number
  default     = 1
}

variable "ssh_key_name" {
  description = "Name of an Exoscale SSH key (exo compute ssh-key list) to log in to the VMs as user debian, or null for none."
  type        = string
  default     = null
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
  description = "HTTPS URL the VMs download the poolscale Debian package from. There are no official releases: build it with make deb on Debian 12 amd64 and upload build/deb/poolscale_VERSION_amd64.deb somewhere the VMs can read it, e.g. an Exoscale SOS bucket (docs/cloud.md)."
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

variable "exoscale_api_key" {
  description = "API key (EXO...) of the controller's restricted IAM role: get/scale/evict instance pools, get/list instances, get operations (docs/cloud.md). Not Terraform's own key."
  type        = string
  sensitive   = true
}

variable "exoscale_api_secret" {
  description = "Secret of that API key."
  type        = string
  sensitive   = true
}

variable "ha" {
  description = "Set by deploy/terraform/exoscale-ha, which calls this directory as a module and makes its own management instances (none is made here): what their user data adds to the single deployment's. controller_config: YAML appended to the controller's configuration (the ha: block); alert_webhooks: every controller's /api/v1/alerts; files: path to mode and content; private_files: path to content, readable by root only. null: the single deployment."
  type = object({
    controller_config = string
    alert_webhooks    = list(string)
    files             = map(object({ mode = string, content = string }))
    private_files     = map(string)
  })
  default = null
}
