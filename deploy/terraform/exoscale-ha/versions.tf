terraform {
  required_version = ">= 1.3.0"

  # random and tls: required by ../exoscale and ../modules/etcd.
  required_providers {
    exoscale = {
      source  = "exoscale/exoscale"
      version = "~> 0.63"
    }
  }
}

# Terraform's own credentials (not the controller's): an API key allowed to
# create instance pools, instances, NLBs, private networks, anti-affinity
# groups and security groups, from the environment: EXOSCALE_API_KEY and
# EXOSCALE_API_SECRET (docs/cloud.md).
provider "exoscale" {}
