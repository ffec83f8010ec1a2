#!/usr/bin/env bash
# Builds the test infrastructure (Kubernetes control plane, etcd, kwok, helm,
# prometheus-adapter) and the manifest scanner (kube-score) from the Go module proxy
# into a cache outside the repo.
# Idempotent: a binary is rebuilt only when its pinned version changes.
#
#   hack/tools.sh            build whatever is missing or stale
#   hack/tools.sh --print    print the bin directory and exit
#
# Env: OCR_CACHE_DIR (default $HOME/.cache/ocr-platform), GOBIN derived from it.
set -euo pipefail

K8S_VERSION=v1.36.3
ETCD_VERSION=v3.6.14
KWOK_VERSION=v0.8.0
HELM_VERSION=v3.21.4
ADAPTER_VERSION=v0.12.0
KUBE_SCORE_VERSION=v1.20.0

here=$(cd "$(dirname "$0")" && pwd)
cache=${OCR_CACHE_DIR:-$HOME/.cache/ocr-platform}
bin=$cache/bin
stamps=$cache/stamps
mkdir -p "$bin" "$stamps"
if [[ "${1:-}" == "--print" ]]; then echo "$bin"; exit 0; fi

export GOTOOLCHAIN=local CGO_ENABLED=0 GOBIN=$bin GOFLAGS=-trimpath
export PATH=/usr/local/go/bin:$PATH
command -v go >/dev/null || { echo "tools: Go is required at /usr/local/go (see README, Troubleshooting)" >&2; exit 1; }

log() { printf '[tools %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
fresh() { [[ -f "$stamps/$1" && "$(cat "$stamps/$1")" == "$2" ]] && for b in "${@:3}"; do [[ -x "$bin/$b" ]] || return 1; done; }
stamp() { echo "$2" > "$stamps/$1"; }

# Runs a long build with a heartbeat so a cold build never looks hung.
with_progress() {
  local what=$1; shift
  local start=$SECONDS
  "$@" & local pid=$!
  while kill -0 "$pid" 2>/dev/null; do
    sleep 30
    kill -0 "$pid" 2>/dev/null && log "$what: still building ($((SECONDS - start)) s)"
  done
  wait "$pid"
  log "$what: done in $((SECONDS - start)) s"
}

build_k8s() {
  fresh k8s "$K8S_VERSION" kube-apiserver kube-controller-manager kube-scheduler kubectl && return 0
  log "kubernetes $K8S_VERSION: cold build takes 15-30 min on 2 cores"
  cd "$here/toolchain/k8s"
  local minor=${K8S_VERSION#v1.}; minor=${minor%%.*}
  local V="-X k8s.io/component-base/version.gitVersion=$K8S_VERSION -X k8s.io/component-base/version.gitMajor=1 \
-X k8s.io/component-base/version.gitMinor=$minor -X k8s.io/component-base/version.gitTreeState=clean \
-X k8s.io/component-base/version.buildDate=1970-01-01T00:00:00Z \
-X k8s.io/client-go/pkg/version.gitVersion=$K8S_VERSION -X k8s.io/client-go/pkg/version.gitMajor=1 \
-X k8s.io/client-go/pkg/version.gitMinor=$minor -X k8s.io/client-go/pkg/version.gitTreeState=clean"
  with_progress kubernetes go build -tags selinux,notest -ldflags "-s -w $V" -o "$bin/" \
    k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager \
    k8s.io/kubernetes/cmd/kube-scheduler k8s.io/kubernetes/cmd/kubectl
  "$bin/kube-apiserver" --version | grep -q "$K8S_VERSION" || { log "kube-apiserver reports the wrong version"; exit 1; }
  stamp k8s "$K8S_VERSION"
}

build_etcd() {
  fresh etcd "$ETCD_VERSION" etcd && return 0
  cd "$here/toolchain/etcd"
  with_progress etcd go build -ldflags "-s -w" -o "$bin/etcd" go.etcd.io/etcd/server/v3
  stamp etcd "$ETCD_VERSION"
}

# prometheus-adapter through a wrapper module too: `go install ...adapter@v0.12.0` fails here
# with "loading deprecation ... reading .../sigs.k8s.io/prometheus-adapter/@v/list: 403 Forbidden"
# (go install asks the proxy for the module's version list to look for a deprecation notice;
# the proxy refuses that list for this module). A go.mod with a pinned require never asks.
build_adapter() {
  fresh adapter "$ADAPTER_VERSION" adapter && return 0
  cd "$here/toolchain/adapter"
  with_progress adapter go build -ldflags "-s -w" -o "$bin/adapter" sigs.k8s.io/prometheus-adapter/cmd/adapter
  stamp adapter "$ADAPTER_VERSION"
}

build_plain() { # name stamp-version binary package@version [ldflags]
  local name=$1 version=$2 binary=$3 pkg=$4 ldflags=${5:-"-s -w"}
  fresh "$name" "$version" "$binary" && return 0
  with_progress "$name" go install -ldflags "$ldflags" "$pkg"
  stamp "$name" "$version"
}

what=${1:-all}
case "$what" in
  all|k8s) build_k8s ;;&
  all|etcd) build_etcd ;;&
  all|kwok) build_plain kwok "$KWOK_VERSION" kwok "sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION" ;;&
  all|helm) build_plain helm "$HELM_VERSION" helm "helm.sh/helm/v3/cmd/helm@$HELM_VERSION" \
    "-s -w -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION \
-X helm.sh/helm/v3/pkg/chartutil.k8sVersionMajor=1 -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMinor=36 \
-X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMajor=1 -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMinor=36" ;;&
  all|adapter) build_adapter ;;&
  # kube-score builds with a plain `go install` (no replace directives, and the proxy serves its
  # version list); cold: about 50 s on 2 cores with empty module and build caches.
  all|kube-score) build_plain kube-score "$KUBE_SCORE_VERSION" kube-score "github.com/zegl/kube-score/cmd/kube-score@$KUBE_SCORE_VERSION" \
    "-s -w -X main.version=$KUBE_SCORE_VERSION" ;;&
  *) ;;
esac
log "binaries in $bin"
