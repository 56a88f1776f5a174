#!/usr/bin/env bash
# Runs the whole test suite. Installs what the tests need first (see install-test-deps.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-test-deps.sh
export CARGO_INCREMENTAL=0
cargo nextest run --workspace --no-fail-fast "$@"
