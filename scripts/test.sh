#!/usr/bin/env bash
# The whole test suite, from a fresh machine: installs what is missing, checks formatting and
# lints, runs every Rust test (unit, property, integration against the real server), the
# second-language (Python) check of the wire-format vectors, and a short fuzz smoke.
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
echo "== fuzz smoke (scripts/fuzz.sh --smoke: every target, 5 s each)"
if cargo +nightly --version >/dev/null 2>&1; then
  bash scripts/fuzz.sh --smoke
else
  echo "skipped: no nightly toolchain, which cargo-fuzz needs (rustup toolchain install nightly)"
fi
