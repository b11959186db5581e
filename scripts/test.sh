#!/usr/bin/env bash
# The whole test suite, from a fresh machine: installs what is missing, checks formatting and
# lints, runs every Rust test (unit, property, integration against the real server), then the
# second-language (Python) check of the wire-format vectors.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh

echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy"
cargo clippy --workspace --all-targets --quiet -- -D warnings
echo "== cargo test"
cargo test --workspace
echo "== python check of docs/vectors/records.json"
python3 scripts/check_vectors.py docs/vectors/records.json
