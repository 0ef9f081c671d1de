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
  }
}

# Terraform's own credentials (not the controller's): an API key allowed to
# create instance pools, instances, NLBs and security groups, from the
# environment: EXOSCALE_API_KEY and EXOSCALE_API_SECRET (docs/cloud.md).
# No provider block: the default configuration reads them, and the
# directory stays usable as a module (exoscale-ha calls it).
