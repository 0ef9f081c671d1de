terraform {
  required_version = ">= 1.3.0"

  required_providers {
    exoscale = {
      source  = "exoscale/exoscale"
      version = "~> 0.63"
    }
    random = {
      source  = "hashicorp/random"
      version = "~> 3.5"
    }
    # etcd's CA and certificates, made here (no network call): their private
    # keys are in the Terraform state, like every other secret (docs/cloud.md).
    tls = {
      source  = "hashicorp/tls"
      version = "~> 4.0"
    }
  }
}

# Terraform's own credentials (not the controller's): an API key allowed to
# create instance pools, instances, NLBs, private networks, anti-affinity
# groups and security groups, from the environment: EXOSCALE_API_KEY and
# EXOSCALE_API_SECRET (docs/cloud.md).
provider "exoscale" {}
