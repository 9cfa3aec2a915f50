#!/usr/bin/env bash
# Debian packages the test suite needs: Chromium (browser tests, driven by Playwright
# with executable_path, never `playwright install`) and PostgreSQL 15 (a throwaway
# cluster on 127.0.0.1), and Node.js with npm (the npm `jose` library checks our tokens,
# see scripts/node-deps.sh). Installs only what is missing; needs root (or sudo) for that.
set -euo pipefail
missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
[ -x /usr/lib/postgresql/15/bin/initdb ] || missing+=(postgresql-15)
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing Debian packages: ${missing[*]}"
  sudo_cmd=""
  [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
if command -v npm >/dev/null 2>&1; then bash "$(dirname "$0")/node-deps.sh"; fi
