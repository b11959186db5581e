# Shared by demo.sh and journeys.sh: builds the binaries (unless EBL_BIN names them), starts ebld
# on a fresh data folder with a fresh operator key, and defines helpers. Source it; it sets
# BIN, DEMO, EBLD (the server's pid) and EBL_SERVER, and stops the server on exit.
if [ -z "${EBL_BIN:-}" ]; then
  source scripts/setup.sh
  echo "== building ebld and ebl"
  cargo build --quiet --workspace --bins
  BIN="$CARGO_TARGET_DIR/debug"
else
  BIN="$EBL_BIN"
fi
DEMO="${EBL_DEMO_DIR:-$PWD/demo}"
rm -rf "$DEMO"
mkdir -p "$DEMO/keys"          # keys live outside the data folder
DATA="$DEMO/data"
ebl() { "$BIN/ebl" "$@"; }
step() { printf '\n\033[1m-- %s\033[0m\n' "$*"; }
fail() { echo "FAILED: $*" >&2; exit 1; }

step "operator key (kept offline; the server only gets the public half)"
ebl keygen --out "$DEMO/keys/operator.key"
"$BIN/ebld" init --data-dir "$DATA" --operator-key "$DEMO/keys/operator.key.pub" --origin "demo.example/ebl"

step "starting ebld on 127.0.0.1:${EBL_DEMO_PORT:-50051} with data in $DATA"
"$BIN/ebld" --data-dir "$DATA" --listen "127.0.0.1:${EBL_DEMO_PORT:-50051}" \
  --operator-key "$DEMO/keys/operator.key.pub" >"$DEMO/ebld.out" 2>"$DEMO/ebld.log" &
EBLD=$!
trap 'kill $EBLD 2>/dev/null || true' EXIT
ADDR=""
for _ in $(seq 1 100); do
  ADDR=$(awk '/^ebld listening on/ {print $4}' "$DEMO/ebld.out" 2>/dev/null)
  [ -n "$ADDR" ] && break
  sleep 0.1
done
[ -n "$ADDR" ] || fail "ebld did not start: $(cat "$DEMO/ebld.log")"
export EBL_SERVER="http://$ADDR"
ebl info

OP=(--key "$DEMO/keys/operator.key")
register() { # party role name lei
  ebl keygen --out "$DEMO/keys/$1.key" >/dev/null
  ebl operator register-party "${OP[@]}" --party "$1" --role "$2" --name "$3" --code "GLEIF:$4:LEI"
  ebl operator add-key "${OP[@]}" --party "$1" --public-key "$DEMO/keys/$1.key.pub"
}
as() { echo --as "$1" --key "$DEMO/keys/$1.key"; }
# Runs an ebl command that must be refused, and checks the refusal names REASON.
refused() { # reason ebl-args...
  local reason=$1 out; shift
  if out=$(ebl "$@" 2>&1); then fail "accepted, expected $reason: $out"; fi
  echo "$out"
  case "$out" in *"$reason"*) ;; *) fail "expected $reason, got: $out" ;; esac
}
# A copy of an example document under another reference (and optionally another delivery place).
doc_copy() { # source reference [UN/LOCODE of the new place of delivery]
  python3 - "$@" <<'PY'
import json, sys
src, ref = sys.argv[1], sys.argv[2]
d = json.load(open(src))
d["transportDocumentReference"] = ref
if len(sys.argv) > 3:
    d["transports"]["placeOfDelivery"] = {"locationName": "new place of delivery", "UNLocationCode": sys.argv[3]}
json.dump(d, sys.stdout, indent=2)
PY
}
