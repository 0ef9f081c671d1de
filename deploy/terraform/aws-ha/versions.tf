terraform {
  required_version = ">= 1.3.0"

  # random and tls: required by ../aws and ../modules/etcd.
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.30"
    }
  }
}

# Terraform's own credentials (not the controller's), from the usual AWS
# sources: AWS_PROFILE, AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, SSO...
provider "aws" {
  region = var.region

  default_tags {
    tags = {
      poolscale = var.name
    }
  }
}
