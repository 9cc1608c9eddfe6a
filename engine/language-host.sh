#!/bin/sh
# Builds the Pulumi Python language host into $1 at the release engine/go.mod pins, or records why
# it cannot be had in $1/../language-host.unavailable (read by platformctl and the engine tests).
#
# The host's module replaces the SDK and the CLI with sibling folders, so it is built in a copy of
# the wrapper module (engine/), which pins both at the same release and carries the fork's replace.
set -u
tools="$1"
here=$(cd "$(dirname "$0")" && pwd)
record="$tools/../language-host.unavailable"
module=github.com/pulumi/pulumi/sdk/python/cmd/pulumi-language-python/v3
version=$(cd "$here" && go list -m -f '{{.Version}}' github.com/pulumi/pulumi/pkg/v3)
if ! out=$(cd "$here" && go mod download -json "$module@$version" 2>&1); then
  # The module proxy answers for the whole module path, so the reason is the same for every release.
  printf '%s@%s could not be downloaded:\n%s\n' "$module" "$version" "$out" | sed 's#https://[^/]*/#<module proxy>/#' > "$record"
  echo "language host: not available from the Go module proxy (see $record); platformctl runs programs through the Automation API instead"
  exit 0
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp "$here/go.mod" "$here/go.sum" "$work/"
(cd "$work" && go get "$module@$version" && go build -trimpath -o "$tools/pulumi-language-python" "$module") || exit 1
rm -f "$record"
