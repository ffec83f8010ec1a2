#!/usr/bin/env bash
# The one test command (README: `npm test`). From a fresh clone it installs what it
# needs, builds the test infrastructure (cached in $HOME/.cache/ocr-platform), runs
# the static checks, starts a local Kubernetes control plane, runs every unit,
# integration and e2e test in one node:test run, and stops the cluster again.
#
#   OCR_TEST_SKIP_CLUSTER=1   skip the control plane and the tests that need it
#   OCR_TEST_KUBECONFIG=path  use this cluster instead of starting one
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
started=$SECONDS
step() { printf '\n==> [%4ss] %s\n' "$((SECONDS - started))" "$*"; }

step "dependencies"
bash hack/deps.sh
export PATH="$root/node_modules/.bin:$PATH"
node --version

step "static checks: generated files, types, format, lint"
npm run -s generate:check
if npm run 2>/dev/null | grep -q 'chart:schema:check'; then npm run -s chart:schema:check; fi
tsc -p tsconfig.json
prettier --check --log-level warn "**/*.{ts,js}"
eslint .
npm run -s lint:openapi

cluster_name=test-$$
stop_cluster() { :; }
own_cluster=
if [[ -z "${OCR_TEST_SKIP_CLUSTER:-}" && -z "${OCR_TEST_KUBECONFIG:-}" ]]; then own_cluster=1; fi
if [[ -n "$own_cluster" ]]; then
  step "toolchain (cached; a cold build takes a while)"
  bash hack/tools.sh
fi

# After the toolchain: kube-score and helm come from it. Without a cluster of our own the
# toolchain step did not run; build just the two scan tools then (about a minute cold),
# unless the run skips the cluster on purpose and they are not built yet.
step "static checks: kube-score on the chart and the operator's children (npm run scan)"
tools_bin=$(bash hack/tools.sh --print)
if [[ -x "$tools_bin/kube-score" && -x "$tools_bin/helm" ]]; then
  npm run -s scan
elif [[ -n "${OCR_TEST_SKIP_CLUSTER:-}" ]]; then
  echo "scan SKIPPED: kube-score or helm is not built and OCR_TEST_SKIP_CLUSTER is set; run \`npm run tools\` to enable it"
else
  bash hack/tools.sh helm
  bash hack/tools.sh kube-score
  npm run -s scan
fi

if [[ -n "$own_cluster" ]]; then
  step "local control plane"
  node hack/cluster/main.ts up --name "$cluster_name" --with-metrics
  OCR_TEST_KUBECONFIG=$(node hack/cluster/main.ts kubeconfig --name "$cluster_name")
  export OCR_TEST_KUBECONFIG
  stop_cluster() { step "stopping the local control plane"; node hack/cluster/main.ts down --name "$cluster_name" || true; }
fi
trap stop_cluster EXIT

step "tests"
export OCR_TEST_SKIP_CLUSTER=${OCR_TEST_SKIP_CLUSTER:-}
node --test --test-concurrency=1 --test-reporter=spec \
  'src/**/*.test.ts' 'hack/**/*.test.ts' 'scripts/**/*.test.ts' 'test/**/*.test.ts'
