terraform {
  required_version = ">= 1.3.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.30"
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
