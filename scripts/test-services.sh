#!/usr/bin/env bash
# The servers the provisioning service's tests start on loopback: Debian's PostgreSQL 15 and Redis.
# Installed when missing; the package lists are refreshed only if the install fails.
set -euo pipefail
missing=()
[ -x /usr/lib/postgresql/15/bin/initdb ] || missing+=(postgresql)
command -v redis-server >/dev/null || missing+=(redis-server)
[ ${#missing[@]} -eq 0 ] && exit 0
sudo=""
[ "$(id -u)" -eq 0 ] || sudo=sudo
export DEBIAN_FRONTEND=noninteractive
echo "installing ${missing[*]} (Debian packages the service tests start on loopback)"
$sudo apt-get install -y -qq "${missing[@]}" >/dev/null \
  || { $sudo apt-get update -qq >/dev/null && $sudo apt-get install -y -qq "${missing[@]}" >/dev/null; }
