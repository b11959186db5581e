#!/usr/bin/env bash
# Coverage-guided fuzzing of the pure core (docs/fuzzing.md): builds the cargo-fuzz targets in
# fuzz/ on the nightly toolchain (installing cargo-fuzz if missing) and runs each for a bounded
# time, SECONDS each (default 60), adding what it finds to fuzz/corpus/<target>/. Links ebl-core
# only: no RocksDB is built. A crash stops the script with the input under fuzz/artifacts/.
#
#   scripts/fuzz.sh [--smoke] [SECONDS] [TARGET...]      e.g. scripts/fuzz.sh 10 notes witness
#
# --smoke (what scripts/test.sh runs, 5 s a target by default): the same runs over a temporary
# copy of each corpus, so the repository is left as it was. The stable suite also replays the
# corpora (core/tests/fuzz_corpus.rs).
set -euo pipefail
cd "$(dirname "$0")/.."
SMOKE=0
if [ "${1:-}" = "--smoke" ]; then
  SMOKE=1
  shift
fi
SECONDS_EACH="${1:-$([ "$SMOKE" = 1 ] && echo 5 || echo 60)}"
shift || true
case "$SECONDS_EACH" in '' | *[!0-9]*) echo "usage: scripts/fuzz.sh [SECONDS] [TARGET...]" >&2; exit 2 ;; esac

if ! cargo +nightly --version >/dev/null 2>&1; then
  echo "scripts/fuzz.sh: the nightly toolchain is missing (cargo-fuzz needs it):" >&2
  echo "  rustup toolchain install nightly" >&2
  exit 1
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "== installing cargo-fuzz"
  cargo install cargo-fuzz --locked
fi

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR_FUZZ:-$HOME/.cache/ebl-ledger/fuzz-target}"
# Safe Rust: AddressSanitizer would find nothing the bounds checks miss, at twice the cost.
FLAGS=(--sanitizer none --target-dir "$CARGO_TARGET_DIR")
cd fuzz
if [ "$#" -eq 0 ]; then
  mapfile -t TARGETS < <(cargo +nightly fuzz list)
else
  TARGETS=("$@")
fi
echo "== building ${TARGETS[*]}"
cargo +nightly fuzz build "${FLAGS[@]}"
SCRATCH=""
if [ "$SMOKE" = 1 ]; then
  SCRATCH="$(mktemp -d)"
  trap 'rm -rf "$SCRATCH"' EXIT
fi
for t in "${TARGETS[@]}"; do
  echo "== $t for ${SECONDS_EACH}s"
  mkdir -p "corpus/$t"
  corpus="corpus/$t"
  if [ "$SMOKE" = 1 ]; then
    corpus="$SCRATCH/$t"
    cp -r "corpus/$t" "$corpus"
  fi
  log="artifacts/$t.log"
  mkdir -p artifacts
  # -rss_limit_mb: a target holds at most a few hundred tree nodes; near 1 GB is a finding.
  rc=0
  cargo +nightly fuzz run "${FLAGS[@]}" "$t" "$corpus" -- \
    -max_total_time="$SECONDS_EACH" -rss_limit_mb=1024 -print_final_stats=1 >"$log" 2>&1 || rc=$?
  grep -E '^(#[0-9]+ +DONE|stat::number_of_executed_units|stat::average_exec_per_sec)' "$log" || true
  if [ "$rc" -ne 0 ]; then
    grep -E 'panicked|Test unit written|SUMMARY' "$log" >&2 || tail -20 "$log" >&2
    echo "FAILED: $t (log: fuzz/$log; reproduce: cargo +nightly fuzz run $t <artifact>)" >&2
    exit 1
  fi
done
if [ "$SMOKE" = 1 ]; then
  echo "== done: every target ran ${SECONDS_EACH}s with no failure"
else
  echo "== done: new corpus inputs are in fuzz/corpus/; minimise with cargo +nightly fuzz cmin before committing"
fi
