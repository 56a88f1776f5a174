#!/usr/bin/env bash
# Rebuilds the web console into console/dist (committed: cksd embeds it, so building cksd needs no
# Node). Type-checks, bundles with esbuild, and records the sources' hash in console/dist/SOURCE_HASH,
# which cksd's tests compare with the sources. Needs Node 20+ and npm.
set -euo pipefail
cd "$(dirname "$0")/../console"
../scripts/install-console-deps.sh
npm run --silent build
