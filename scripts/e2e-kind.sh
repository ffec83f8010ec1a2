#!/usr/bin/env bash
# `npm run e2e:kind`: the end-to-end suite (test/e2e/e2e.test.ts) on a kind cluster, with
# everything in pods: the operator from the chart, the pipeline's API and workers, Azurite
# and the Service Bus stand-in. For a machine with Docker and internet access (kind node
# image, node:24 base image, npm packages, Azurite's image, two Helm charts). docs/e2e.md.
#
#   1. kind cluster from kind-config.yaml (a control plane and two workers)
#   2. docker build of the Dockerfile, kind load docker-image
#   3. Prometheus + prometheus-adapter (external.metrics.k8s.io) from prometheus-community
#   4. the suite with E2E_OPERATOR=incluster (it installs the chart and runs its stages)
#   5. kind delete cluster, also when a step fails (E2E_KEEP_CLUSTER=1 keeps it)
#
# Settings (environment):
#   E2E_KIND_CLUSTER   cluster name (default ocr-platform-e2e)
#   E2E_IMAGE          image to build and load (default ocr-platform:e2e)
#   E2E_KEEP_CLUSTER   1 = leave the cluster running afterwards, for a look around
#   KIND, DOCKER, HELM, KUBECTL   the binaries (default: from PATH; helm and kubectl also
#                      from $OCR_CACHE_DIR/bin, where `npm run tools` builds them)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
started=$SECONDS
step() { printf '\n==> [%4ss] %s\n' "$((SECONDS - started))" "$*"; }
fail() { printf 'e2e-kind: %s\n' "$*" >&2; exit 1; }

cluster=${E2E_KIND_CLUSTER:-ocr-platform-e2e}
image=${E2E_IMAGE:-ocr-platform:e2e}
kind_config=$root/kind-config.yaml
dockerfile=$root/Dockerfile
values_dir=$root/test/e2e/kind
cache_bin=${OCR_CACHE_DIR:-$HOME/.cache/ocr-platform}/bin
work=$root/.tmp/e2e-kind
kubeconfig=$work/kubeconfig
# Charts of Prometheus and prometheus-adapter, pinned so a new major cannot change values.
prometheus_chart_version=${E2E_PROMETHEUS_CHART_VERSION:-27.19.0}
adapter_chart_version=${E2E_ADAPTER_CHART_VERSION:-5.2.0}

find_bin() { # name, override: the override, else PATH, else the tools cache
  local name=$1 override=${2:-}
  if [[ -n $override ]]; then echo "$override"; return; fi
  if command -v "$name" >/dev/null 2>&1; then command -v "$name"; return; fi
  if [[ -x $cache_bin/$name ]]; then echo "$cache_bin/$name"; return; fi
  return 1
}
kind=$(find_bin kind "${KIND:-}") || fail "kind not found: install kind v0.33.0 or later (https://kind.sigs.k8s.io/docs/user/quick-start/#installation), or set KIND"
docker=$(find_bin docker "${DOCKER:-}") || fail "docker not found: kind needs Docker (or set DOCKER)"
helm=$(find_bin helm "${HELM:-}") || fail "helm not found: run \`npm run tools\` or install Helm 3, or set HELM"
kubectl=$(find_bin kubectl "${KUBECTL:-}") || fail "kubectl not found: run \`npm run tools\` or install kubectl, or set KUBECTL"
[[ -f $kind_config && -f $dockerfile ]] || fail "run from a checkout: $kind_config or $dockerfile is missing"
"$docker" info >/dev/null 2>&1 || fail "Docker is not running (docker info failed)"
export PATH="$root/node_modules/.bin:$(dirname "$helm"):$(dirname "$kubectl"):$PATH"
[[ -x $root/node_modules/.bin/node ]] || fail "node_modules is missing: run \`npm ci\` first"

# Helm's repositories and cache stay in the checkout (.tmp/ is git-ignored), never in
# the user's helm configuration.
export HELM_CACHE_HOME=$root/.tmp/helm/cache HELM_CONFIG_HOME=$root/.tmp/helm/config HELM_DATA_HOME=$root/.tmp/helm/data
mkdir -p "$work"

cleanup() {
  local status=$?
  if [[ -n ${E2E_KEEP_CLUSTER:-} ]]; then
    step "keeping cluster $cluster (E2E_KEEP_CLUSTER): KUBECONFIG=$kubeconfig; delete it with: $kind delete cluster --name $cluster"
  else
    step "deleting kind cluster $cluster"
    "$kind" delete cluster --name "$cluster" || true
  fi
  exit "$status"
}

step "kind cluster $cluster from kind-config.yaml"
if "$kind" get clusters 2>/dev/null | grep -qx "$cluster"; then
  fail "a kind cluster named $cluster exists already: delete it (\`$kind delete cluster --name $cluster\`) or set E2E_KIND_CLUSTER"
fi
trap cleanup EXIT
"$kind" create cluster --name "$cluster" --config "$kind_config" --kubeconfig "$kubeconfig" --wait 180s

step "image $image from the Dockerfile"
"$docker" build --tag "$image" --file "$dockerfile" "$root"
"$kind" load docker-image "$image" --name "$cluster"

step "Prometheus and prometheus-adapter (prometheus-community charts)"
"$helm" repo add prometheus-community https://prometheus-community.github.io/helm-charts --force-update
"$helm" repo update prometheus-community
"$helm" install prometheus prometheus-community/prometheus --version "$prometheus_chart_version" \
  --kubeconfig "$kubeconfig" --namespace monitoring --create-namespace \
  --values "$values_dir/prometheus-values.yaml" --wait --timeout 5m
"$helm" install prometheus-adapter prometheus-community/prometheus-adapter --version "$adapter_chart_version" \
  --kubeconfig "$kubeconfig" --namespace monitoring \
  --values "$values_dir/prometheus-adapter-values.yaml" --wait --timeout 5m
"$kubectl" --kubeconfig "$kubeconfig" wait --for=condition=Available --timeout=180s apiservice/v1beta1.external.metrics.k8s.io

step "e2e suite (E2E_OPERATOR=incluster)"
# The API answers on 127.0.0.1:8080 through node port 30080 (kind-config.yaml's port mapping).
OCR_TEST_KUBECONFIG=$kubeconfig \
E2E_OPERATOR=incluster \
E2E_IMAGE=$image \
E2E_IMAGE_PULL_POLICY=IfNotPresent \
E2E_API_URL=http://127.0.0.1:8080 \
E2E_API_NODE_PORT=30080 \
E2E_PROMETHEUS_URL=http://prometheus-server.monitoring.svc \
  node --test --test-concurrency=1 --test-reporter=spec test/e2e/e2e.test.ts
step "e2e suite passed"
