terraform {
  required_version = ">= 1.3.0"

  required_providers {
    # etcd's CA and certificates, made here (no network call): their private
    # keys are in the Terraform state, like every other secret (docs/cloud.md).
    tls = {
      source  = "hashicorp/tls"
      version = "~> 4.0"
    }
  }
}
