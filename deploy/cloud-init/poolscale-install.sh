#!/bin/sh
# Installs the poolscale binary on a cloud VM: poolscale-install URL SHA256.
# Run by cloud-init (app.yaml, management.yaml) as root. poolscale has no
# release downloads: the operator builds it (make, on Debian 12 amd64 like
# the VMs), uploads build/poolscale where the VMs can fetch it (an object
# store bucket, for instance) and gives Terraform its URL and SHA-256
# (docs/cloud.md). The checksum guards against a wrong or truncated file.
set -eu

if [ $# -ne 2 ]; then
	echo "usage: poolscale-install URL SHA256" >&2
	exit 2
fi
url=$1
sum=$2

tmp=$(mktemp /usr/local/bin/.poolscale.XXXXXX)
trap 'rm -f "$tmp"' EXIT
curl -fsSL --retry 10 --retry-connrefused --retry-delay 3 -o "$tmp" "$url"
echo "$sum  $tmp" | sha256sum -c --quiet -
chmod 0755 "$tmp"
mv -f "$tmp" /usr/local/bin/poolscale
trap - EXIT
/usr/local/bin/poolscale --help >/dev/null
echo "poolscale-install: /usr/local/bin/poolscale installed from $url"
