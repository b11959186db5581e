#!/usr/bin/env bash
# The main job from a fresh machine: installs what is missing, builds, initialises a ledger on a
# fresh data folder, starts ebld, and walks the title part of reference journey 1 (rail-sea
# Chongqing -> Qinzhou -> Singapore, financed by a letter of credit) with the ebl CLI.
#   scripts/demo.sh           walk the journey, then stop the server
#   scripts/demo.sh --serve   walk the journey, then keep serving until Ctrl-C
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh

echo "== building ebld and ebl"
cargo build --quiet --bins
BIN="$CARGO_TARGET_DIR/debug"
DEMO="${EBL_DEMO_DIR:-$PWD/demo}"
rm -rf "$DEMO"
mkdir -p "$DEMO/keys"          # keys live outside the data folder
DATA="$DEMO/data"
PORT="${EBL_DEMO_PORT:-50051}"
export EBL_SERVER="http://127.0.0.1:$PORT"
ebl() { "$BIN/ebl" "$@"; }
step() { printf '\n\033[1m-- %s\033[0m\n' "$*"; }

step "operator key (kept offline; the server only gets the public half)"
ebl keygen --out "$DEMO/keys/operator.key"
"$BIN/ebld" init --data-dir "$DATA" --operator-key "$DEMO/keys/operator.key.pub" --origin "demo.example/ebl"

step "starting ebld on 127.0.0.1:$PORT with data in $DATA"
"$BIN/ebld" --data-dir "$DATA" --listen "127.0.0.1:$PORT" --operator-key "$DEMO/keys/operator.key.pub" >"$DEMO/ebld.log" 2>&1 &
EBLD=$!
trap 'kill $EBLD 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do ebl info >/dev/null 2>&1 && break; sleep 0.1; done
ebl info

OP=(--key "$DEMO/keys/operator.key")
register() { # party role name lei
  ebl keygen --out "$DEMO/keys/$1.key" >/dev/null
  ebl operator register-party "${OP[@]}" --party "$1" --role "$2" --name "$3" --code "GLEIF:$4:LEI"
  ebl operator add-key "${OP[@]}" --party "$1" --public-key "$DEMO/keys/$1.key.pub"
}
step "operator registers the parties and their keys (records in the log)"
register cq-mto CARRIER "Chongqing Land-Sea Multimodal Transport Co." 3003000CQMTO0000001
register cq-machinery TRADER "Chongqing Machinery Export Co., Ltd." 5493001KJTIIGC8Y1R12
register cq-bank BANK "Bank of Chongqing, Trade Finance" 3003000CQBANK000003
register sg-buyer TRADER "Straits Heavy Equipment Pte. Ltd." 5493000SGBUY0000004

as() { echo --as "$1" --key "$DEMO/keys/$1.key"; }
BILL="cq-mto/CLSC25CKGSIN000187"
step "cq-mto issues a to-order bill (rail CNCKG -> CNQZH, sea CNQZH -> SGSIN) to the exporter"
ebl bill issue $(as cq-mto) --document examples/documents/ilstc-chongqing-qinzhou-singapore.json --to cq-machinery
ebl bill show $(as cq-machinery) --bill "$BILL"

step "the exporter endorses the bill to order of its bank, and transfers possession"
ebl bill endorse $(as cq-machinery) --bill "$BILL" --to cq-bank --to-order
ebl bill transfer $(as cq-machinery) --bill "$BILL" --to cq-bank

step "the bank verifies title before it lends (the ledger rehashes and replays the chain)"
ebl title $(as cq-bank) --bill "$BILL"

step "on payment the bank endorses to the Singapore buyer and transfers"
ebl bill endorse $(as cq-bank) --bill "$BILL" --to sg-buyer
ebl bill transfer $(as cq-bank) --bill "$BILL" --to sg-buyer

step "the exporter, divested, can no longer move the bill"
if out=$(ebl bill transfer $(as cq-machinery) --bill "$BILL" --to cq-bank 2>&1); then
  echo "unexpectedly accepted: $out" >&2; exit 1
fi
echo "$out"

step "history of the bill"
ebl bill history $(as sg-buyer) --bill "$BILL"

step "title at the end"
ebl title $(as sg-buyer) --bill "$BILL"

if [ "${1:-}" = "--serve" ]; then
  echo; echo "ebld keeps serving on $EBL_SERVER (log: $DEMO/ebld.log); Ctrl-C to stop"
  wait $EBLD
else
  kill -TERM $EBLD; wait $EBLD || true
  echo; echo "demo done; ebld stopped. Data in $DATA; start it again with:"
  echo "  $BIN/ebld --data-dir $DATA --operator-key $DEMO/keys/operator.key.pub"
fi
