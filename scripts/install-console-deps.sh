#!/usr/bin/env bash
# Installs the console's npm packages (exact versions from console/package-lock.json) when they are
# missing or the lock file changed. Safe to run twice.
set -euo pipefail
cd "$(dirname "$0")/../console"
stamp=node_modules/.cks-lock-sha256
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  npm ci --no-audit --no-fund --loglevel=error
  echo "$want" > "$stamp"
fi
