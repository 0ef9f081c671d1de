#!/bin/sh
# Installs the poolscale Debian package on a cloud VM: poolscale-install URL SHA256.
# Run by cloud-init (app.yaml, management.yaml) as root. poolscale has no
# release downloads: the operator builds the package (make deb, on Debian 12
# amd64 like the VMs), uploads build/deb/poolscale_VERSION_amd64.deb where
# the VMs can fetch it (an object store bucket, for instance) and gives
# Terraform its URL and SHA-256 (docs/cloud.md). The checksum guards against
# a wrong or truncated file. apt-get pulls the package's dependencies
# (libcurl4, libjansson4, ...); the package installs the systemd units
# without enabling them and creates the poolscale system user.
set -eu

if [ $# -ne 2 ]; then
	echo "usage: poolscale-install URL SHA256" >&2
	exit 2
fi
url=$1
sum=$2

dir=$(mktemp -d /var/cache/poolscale-install.XXXXXX)
trap 'rm -rf "$dir"' EXIT
# apt reads local packages as its unprivileged _apt user
chmod 0755 "$dir"
curl -fsSL --retry 10 --retry-connrefused --retry-delay 3 -o "$dir/poolscale.deb" "$url"
echo "$sum  $dir/poolscale.deb" | sha256sum -c --quiet -
chmod 0644 "$dir/poolscale.deb"
# cloud-init has already written /etc/poolscale/controller.yml and sd.yml
# (management.yaml); --force-confold keeps them over the package's samples,
# which land beside them as *.dpkg-dist.
DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
	-o Dpkg::Options::=--force-confold "$dir/poolscale.deb"
/usr/bin/poolscale --help >/dev/null
echo "poolscale-install: $(dpkg-query -W -f='${Package} ${Version}' poolscale) installed from $url"
