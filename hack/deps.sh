#!/usr/bin/env bash
# Installs the npm dependencies when they are missing or older than package-lock.json.
# Used by `npm test` (hack/test.sh) and `npm start` (prestart), so both work from a fresh
# clone. npm puts node_modules/.bin (with the pinned Node 24) first on every script's PATH.
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ ! -x node_modules/.bin/node || package-lock.json -nt node_modules/.package-lock.json ]]; then
  echo "[deps] installing npm dependencies (npm ci) ..." >&2
  # onnxruntime-node ships its CPU binaries; its install script would download CUDA ones (no network here, and not needed).
  ONNXRUNTIME_NODE_INSTALL=skip npm ci --no-audit --no-fund
fi
