terraform {
  required_version = ">= 1.3.0"

  required_providers {
    linode = {
      source  = "linode/linode"
      version = "~> 2.31"
    }
    random = {
      source  = "hashicorp/random"
      version = "~> 3.5"
    }
  }
}

# Terraform's own token (not the controller's): a personal access token
# allowed to create Linodes, NodeBalancers and firewalls, from the
# environment: LINODE_TOKEN (docs/cloud.md).
provider "linode" {}
