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

cluster_name=test-$$
stop_cluster() { :; }
if [[ -z "${OCR_TEST_SKIP_CLUSTER:-}" && -z "${OCR_TEST_KUBECONFIG:-}" ]]; then
  step "toolchain (cached; a cold build takes a while)"
  bash hack/tools.sh
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
