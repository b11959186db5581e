#!/usr/bin/env bash
# The crash test (docs/operations.md, "Crash test"): concurrent writers keep title records in
# flight while ebld is killed with SIGKILL at random moments and restarted on the same data
# folder; afterwards every acknowledged record must be in the ledger with its sequence number
# and hash, every bill must replay to its state, and every checkpoint saved before a kill must
# be consistent with the final tree. The load and the oracle are examples/crash/.
#   scripts/crash-test.sh [--short] [--kills N] [--seconds-per-round S] [--writers W]
# --kills N              kills (default 30; --short: 20)
# --seconds-per-round S  the longest random pause between kills, at least 0.5 (default 2; --short: 1.2)
# --writers W            writer tasks, each with 6 Submit lanes and one SubmitBatch lane (default 8)
# EBL_BIN names already built binaries (with examples/crash beside them, or EBL_CRASH naming the
# load-and-check program); EBL_CRASH_DIR keeps the work folder there (default: a temporary
# folder, removed after a run that passes). Talks to 127.0.0.1 only.
set -eEuo pipefail
cd "$(dirname "$0")/.."

KILLS=30 ROUND=2 WRITERS=8 MIN_IN_FLIGHT=32
while [ $# -gt 0 ]; do
  case "$1" in
    --short) KILLS=20 ROUND=1.2; shift ;;
    --kills) KILLS=$2; shift 2 ;;
    --seconds-per-round) ROUND=$2; shift 2 ;;
    --writers) WRITERS=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
[ "$KILLS" -ge 1 ] && [ "$KILLS" -le 1000 ] || { echo "--kills: 1 to 1000" >&2; exit 2; }
awk -v r="$ROUND" 'BEGIN { exit !(r >= 0.5 && r <= 60) }' || { echo "--seconds-per-round: 0.5 to 60" >&2; exit 2; }
[ "$WRITERS" -ge 6 ] && [ "$WRITERS" -le 64 ] || { echo "--writers: 6 to 64 (at least $MIN_IN_FLIGHT calls in flight)" >&2; exit 2; }

if [ -z "${EBL_BIN:-}" ]; then
  source scripts/setup.sh
  echo "== building ebld, ebl and the crash test's load (examples/crash)"
  cargo build --quiet --workspace --bins && cargo build --quiet --example crash
  BIN="$CARGO_TARGET_DIR/debug"
else
  BIN="$EBL_BIN"
fi
CRASH="${EBL_CRASH:-$BIN/examples/crash}"
[ -x "$CRASH" ] || { echo "no load-and-check program at $CRASH" >&2; exit 2; }

if [ -n "${EBL_CRASH_DIR:-}" ]; then
  WORK="$EBL_CRASH_DIR"; KEEP=1
  rm -rf "$WORK"; mkdir -p "$WORK"
else
  WORK=$(mktemp -d "${TMPDIR:-/tmp}/ebl-crash.XXXXXX"); KEEP=0
fi
DATA="$WORK/data"
EBLD="" LOAD="" PASSED=0
cleanup() {
  [ -n "$LOAD" ] && kill "$LOAD" 2>/dev/null || true
  [ -n "$EBLD" ] && kill -9 "$EBLD" 2>/dev/null || true
  wait 2>/dev/null || true
  if [ "$PASSED" = 1 ] && [ "$KEEP" = 0 ]; then rm -rf "$WORK"; else echo "crash-test: work folder kept in $WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM   # so that cleanup runs on these too
trap 'echo "crash-test: line $LINENO: \"$BASH_COMMAND\" failed" >&2' ERR

now_ms() { date +%s%3N; }
T0=$(now_ms)
"$BIN/ebl" keygen --out "$WORK/operator.key" >/dev/null
"$BIN/ebld" init --data-dir "$DATA" --operator-key "$WORK/operator.key.pub" --origin crash.example/ebl >/dev/null

# Starts ebld on $LISTEN and waits until it listens; sets EBLD and ADDR. A few tries: the port
# of a killed server is normally free at once, but is not guaranteed to be.
START=0
start_ebld() {
  local listen=$1 out
  for _ in 1 2 3 4 5; do
    START=$((START + 1)); out="$WORK/ebld.$START.out"
    : >"$out"   # before ebld's own redirection, which happens later in the background child
    "$BIN/ebld" --data-dir "$DATA" --listen "$listen" >"$out" 2>>"$WORK/ebld.log" &
    EBLD=$!
    for _ in $(seq 1 300); do
      ADDR=$(awk '/^ebld listening on/ {print $4}' "$out")
      [ -n "$ADDR" ] && return 0
      kill -0 "$EBLD" 2>/dev/null || break
      sleep 0.02
    done
    kill -9 "$EBLD" 2>/dev/null || true; wait "$EBLD" 2>/dev/null || true; EBLD=""
    sleep 0.2
  done
  echo "crash-test: ebld did not start on $listen: $(tail -5 "$WORK/ebld.log")" >&2
  exit 1
}

start_ebld 127.0.0.1:0
URL="http://$ADDR"
echo "== ebld on $URL, data in $DATA"
"$CRASH" setup --server "$URL" --work "$WORK"
"$CRASH" load --server "$URL" --work "$WORK" --writers "$WRITERS" --seconds 900 \
  >"$WORK/load.out" 2>"$WORK/load.log" &
LOAD=$!

# The load's status line: "in_flight C records R acks A down D".
status() { cat "$WORK/status" 2>/dev/null || echo "in_flight 0 records 0 acks 0 down 1"; }
echo "== $KILLS kills, a random 0.3-$ROUND s apart, each with at least $MIN_IN_FLIGHT calls in flight"
for k in $(seq 1 "$KILLS"); do
  sleep "$(awk -v s="$RANDOM" -v r="$ROUND" 'BEGIN { srand(s); printf "%.2f", 0.3 + rand() * (r - 0.3) }')"
  kill -0 "$LOAD" 2>/dev/null || { echo "crash-test: the load stopped: $(tail -5 "$WORK/load.log")" >&2; exit 1; }
  "$CRASH" checkpoint --server "$URL" --work "$WORK" >/dev/null
  for _ in $(seq 1 250); do
    read -r _ calls _ records _ acks _ down < <(status)
    [ "$down" = 0 ] && [ "$calls" -ge "$MIN_IN_FLIGHT" ] && break
    sleep 0.02
  done
  kill -9 "$EBLD" 2>/dev/null || { echo "crash-test: ebld exited by itself: $(tail -5 "$WORK/ebld.log")" >&2; exit 1; }
  wait "$EBLD" 2>/dev/null || true
  t=$(now_ms)
  start_ebld "$ADDR"
  printf 'kill %2d/%d at %5.1f s: %2s calls (%3s records) in flight, %6s acknowledged; restarted in %d ms\n' \
    "$k" "$KILLS" "$(awk -v t="$t" -v t0="$T0" 'BEGIN { print (t - t0) / 1000 }')" "$calls" "$records" "$acks" $(($(now_ms) - t))
done

echo "== stopping the load"
sleep 0.5
touch "$WORK/stop"
for _ in $(seq 1 300); do kill -0 "$LOAD" 2>/dev/null || break; sleep 0.1; done
LOAD_RC=0; wait "$LOAD" || LOAD_RC=$?; LOAD=""
cat "$WORK/load.out"
[ "$LOAD_RC" = 0 ] || { echo "crash-test: the load failed ($LOAD_RC): $(tail -5 "$WORK/load.log")" >&2; exit 1; }

echo "== checking against the acknowledgement log"
"$CRASH" check --server "$URL" --work "$WORK" --kills "$KILLS" --min-in-flight "$MIN_IN_FLIGHT"
kill -TERM "$EBLD"; wait "$EBLD" 2>/dev/null || true; EBLD=""
echo "crash-test: passed in $(( ($(now_ms) - T0) / 1000 )) s"
PASSED=1
