#!/usr/bin/env bash
# Runs the whole test suite. Installs what the tests need first (see install-test-deps.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-test-deps.sh
export CARGO_INCREMENTAL=0

# Guard rails first, as they fail fastest: formatting, lints as errors (the workspace's [lints] plus
# clippy's defaults), and cargo-deny's license, duplicate-version and source policy (deny.toml says
# why advisories are not checked here).
cargo fmt --all --check
cargo clippy --workspace --all-targets -- -D warnings
cargo deny --offline check bans licenses sources
# The crash-resume harness runs on its own below, with its summary shown.
not_crash='not binary(crash_resume)'
cargo nextest run --workspace --no-fail-fast -E "$not_crash" "$@"

# Every suite that can use PostgreSQL again on it (the store, the simulator's persistence, the CLI against a
# real cksd, the API): a throw-away server, a fresh database per test.
./scripts/with-postgres.sh cargo nextest run -p cks-store -p cks-sim -p cks-cli -p cksd --no-fail-fast -E "$not_crash" "$@"

# Crash-resume (kill -9 at random points of every cluster operation, 50 runs) on each backend.
cargo nextest run -p cksd --test crash_resume --no-capture
./scripts/with-postgres.sh cargo nextest run -p cksd --test crash_resume --no-capture

# The web console, end to end in headless Chromium against the cksd binary built above; first a
# check that the embedded console/dist was built from the current sources.
cargo build -p cksd --bin cksd
(cd console && node build.mjs --check && npx playwright test)
