#!/usr/bin/env bash
# Runs the whole test suite. Installs what the tests need first (see install-test-deps.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-test-deps.sh
export CARGO_INCREMENTAL=0
cargo nextest run --workspace --no-fail-fast "$@"

# The store and the API suite again on PostgreSQL: a throw-away server, a fresh database per test.
./scripts/with-postgres.sh cargo nextest run -p cks-store -p cksd --no-fail-fast "$@"

# The web console, end to end in headless Chromium against the cksd binary built above; first a
# check that the embedded console/dist was built from the current sources.
cargo build -p cksd --bin cksd
(cd console && node build.mjs --check && npx playwright test)
