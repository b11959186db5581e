#!/usr/bin/env bash
# Instructions per record of the server (docs/performance.md, "Instruction counts"): `ebl bench`
# drives a release `ebld` that runs under `valgrind --tool=callgrind`, twice per phase, with two
# numbers of records; the difference of the server's instruction counts divided by the
# difference of records accepted is the cost of one more record, whatever the fixed costs
# (start, registration, the machine probes, reads, restart). Instruction counts are repeatable
# on these shared machines, where times are not. Appends one JSON line per phase to FILE:
#   scripts/profile.sh --label NAME [--out FILE] [--phases mixed-batch,transfers] [--records 1000,3000] [--keep DIR]
# (default FILE docs/perf/instructions.jsonl). EBL_BIN names already built release binaries
# (EBL_COMMIT then names the commit they were built from: default HEAD).
# --keep DIR keeps the callgrind files of each phase's larger run there, for callgrind_annotate.
set -euo pipefail
cd "$(dirname "$0")/.."

LABEL="" OUT=docs/perf/instructions.jsonl PHASES=mixed-batch,transfers RECORDS=1000,3000 KEEP=""
while [ $# -gt 0 ]; do
  case "$1" in
    --label) LABEL=$2; shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    --phases) PHASES=$2; shift 2 ;;
    --records) RECORDS=$2; shift 2 ;;
    --keep) KEEP=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
[ -n "$LABEL" ] || { echo "--label NAME: what this build is (e.g. the commit and its change)" >&2; exit 2; }
command -v valgrind >/dev/null || { echo "valgrind is missing (apt-get install valgrind)" >&2; exit 1; }
IFS=, read -r SMALL LARGE <<<"$RECORDS"

if [ -z "${EBL_BIN:-}" ]; then
  source scripts/setup.sh
  cargo build --quiet --release --workspace --bins
  BIN="$CARGO_TARGET_DIR/release"
else
  BIN="$EBL_BIN"
fi
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

# ebld under callgrind when it serves; its other subcommands (init, probe-disk) as they are.
cat >"$WORK/ebld" <<EOF
#!/usr/bin/env bash
case "\$1" in
  init|probe-disk) exec "$BIN/ebld" "\$@" ;;
  *) exec valgrind --tool=callgrind --max-threads=2048 --callgrind-out-file="\$EBL_CALLGRIND_DIR/callgrind.%p" "$BIN/ebld" "\$@" 2>>"\$EBL_CALLGRIND_DIR/ebld.log" ;;
esac
EOF
chmod +x "$WORK/ebld"

# Instructions of every served process of one bench run, and the records the phase accepted.
measure() { # phase records -> "instructions accepted"
  local dir="$WORK/$1-$2" try
  for try in 1 2; do
    rm -rf "$dir" && mkdir -p "$dir/cg"
    if EBL_CALLGRIND_DIR="$dir/cg" "$BIN/ebl" bench --ebld "$WORK/ebld" --phases "$1" --records "$2" \
      --clients 4 --batch 128 --quiet --without-reads --work-dir "$dir/work" --json-out "$dir/bench.json" \
      >"$dir/bench.out" 2>&1; then
      break
    fi
    echo "profile: the bench failed ($1, $2 records, try $try): $(tail -1 "$dir/bench.out"); ebld said:" >&2
    grep -v '^==' "$dir/cg/ebld.log" | tail -5 >&2 || true
    [ "$try" = 2 ] && exit 1
  done
  local ir accepted
  ir=$(cat "$dir"/cg/callgrind.* | awk '/^summary:/ { s += $2 } END { printf "%.0f", s }')
  accepted=$(python3 -c "import json,sys; r=json.load(open(sys.argv[1]))['runs'][0]; print(sum(p['accepted'] for p in r['phases'] if p['name']==sys.argv[2]))" "$dir/bench.json" "$1")
  echo "$ir $accepted"
}

mkdir -p "$(dirname "$OUT")"
for phase in ${PHASES//,/ }; do
  read -r ir1 n1 < <(measure "$phase" "$SMALL")
  read -r ir2 n2 < <(measure "$phase" "$LARGE")
  per=$(( (ir2 - ir1) / (n2 - n1) ))
  if [ -n "$KEEP" ]; then mkdir -p "$KEEP/$phase" && cp "$WORK/$phase-$LARGE"/cg/callgrind.* "$KEEP/$phase/"; fi
  line=$(printf '{"label":"%s","commit":"%s","date":"%s","phase":"%s","records":[%d,%d],"instructions":[%d,%d],"instructions_per_record":%d}' \
    "$LABEL" "${EBL_COMMIT:-$(git rev-parse --short HEAD)}" "$(date -u +%Y-%m-%d)" "$phase" "$n1" "$n2" "$ir1" "$ir2" "$per")
  echo "$line" | tee -a "$OUT"
done
