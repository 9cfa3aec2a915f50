#!/usr/bin/env bash
# The npm packages the test suite uses (tests/test_interop.py checks that the npm `jose` library
# verifies our tokens), pinned, installed into .node/ (ignored by git). Needs node and npm
# (scripts/system-deps.sh installs them from Debian) and the npm registry on first run only.
set -euo pipefail
JOSE_VERSION=6.2.17
cd "$(dirname "$0")/.."
if [ "$(node -p "try{require('./.node/node_modules/jose/package.json').version}catch(e){''}" 2>/dev/null)" != "$JOSE_VERSION" ]; then
  mkdir -p .node
  npm install --prefix .node --no-save --no-audit --no-fund --silent "jose@$JOSE_VERSION"
fi
