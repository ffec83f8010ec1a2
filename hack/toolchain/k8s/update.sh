#!/usr/bin/env bash
# Regenerates this wrapper module for a Kubernetes version: the staging
# replaces are read from the real k8s.io/kubernetes go.mod, never typed by hand.
#   hack/toolchain/k8s/update.sh v1.36.3   (then set K8S_VERSION in hack/tools.sh)
set -euo pipefail
cd "$(dirname "$0")"
export GOTOOLCHAIN=local
KV=${1:?usage: update.sh v1.X.Y}; SV=v0.${KV#v1.}
gomod=$(go mod download -json "k8s.io/kubernetes@$KV" | jq -r .GoMod)
go mod edit -dropreplace=k8s.io/api 2>/dev/null || true
sed -n 's|^[[:space:]]*\(k8s\.io/[a-z0-9-]*\) => \./staging/src/k8s\.io/.*|\1|p' "$gomod" |
  while read -r m; do go mod edit -replace="$m=$m@$SV"; done
go mod edit -require="k8s.io/kubernetes@$KV"
go mod tidy
