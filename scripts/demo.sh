#!/usr/bin/env bash
# The main job from a fresh machine: installs what is missing, builds, initialises a ledger on a
# fresh data folder, starts ebld, and walks the title part of reference journey 1 (rail-sea
# Chongqing -> Qinzhou -> Singapore, financed by a letter of credit) with the ebl CLI, the
# Qinzhou rail-to-ship handoff co-signed by both carriers, a customs hold at Singapore, and the
# surrender accepted at Singapore by the operator's agent.
#   scripts/demo.sh           walk the journey, then stop the server
#   scripts/demo.sh --serve   walk the journey, then keep serving until Ctrl-C
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

step "operator registers the parties and their keys (records in the log)"
register cq-mto CARRIER "Chongqing Land-Sea Multimodal Transport Co." 3003000CQMTO0000001
register cq-machinery TRADER "Chongqing Machinery Export Co., Ltd." 5493001KJTIIGC8Y1R12
register cq-bank BANK "Bank of Chongqing, Trade Finance" 3003000CQBANK000003
register sg-buyer TRADER "Straits Heavy Equipment Pte. Ltd." 5493000SGBUY0000004
register sg-agency CARRIER "Lion City Shipping Agency Pte. Ltd." 5493000SGAGENCY00005
register cr-chongqing CARRIER "China Railway Chongqing Group" 3003000CRCQ000000006
register bbw-shipping CARRIER "Beibu Gulf Container Line" 3003000BBWSHIP00007
ebl keygen --out "$DEMO/keys/sg-customs.key" >/dev/null
ebl operator register-party "${OP[@]}" --party sg-customs --role CUSTOMS --name "Singapore Customs" --jurisdiction SG
ebl operator add-key "${OP[@]}" --party sg-customs --public-key "$DEMO/keys/sg-customs.key.pub"

step "cq-mto appoints its Singapore agent to decide surrenders at the port of discharge (both sign)"
ebl operator delegate "${OP[@]}" --principal cq-mto --principal-key "$DEMO/keys/cq-mto.key" \
  --agent sg-agency --actions SACC,SREJ --reference "agency agreement SG-2026-14"

BILL="cq-mto/CLSC25CKGSIN000187"
BOX1=CQLU4518208; BOX2=CQLU4520870
step "cq-mto issues a to-order bill to the exporter, with its route: rail CNCKG -> CNQZH, sea CNQZH -> SGSIN"
ebl bill issue $(as cq-mto) --document examples/documents/ilstc-chongqing-qinzhou-singapore.json --to cq-machinery \
  --route examples/routes/ilstc-chongqing-qinzhou-singapore.json
ebl bill show $(as cq-machinery) --bill "$BILL"

step "the train leaves Chongqing (custody chain, apart from title)"
ebl custody depart $(as cr-chongqing) --bill "$BILL" --leg 0 --container $BOX1 --container $BOX2

step "the exporter endorses the bill to order of its bank, and transfers possession"
ebl bill endorse $(as cq-machinery) --bill "$BILL" --to cq-bank --to-order
ebl bill transfer $(as cq-machinery) --bill "$BILL" --to cq-bank

step "the bank verifies title before it lends (the ledger rehashes and replays the chain)"
ebl title $(as cq-bank) --bill "$BILL"

step "the train arrives at Qinzhou; before the handoff the ocean carrier checks title and custody in one call"
ebl custody arrive $(as cr-chongqing) --bill "$BILL" --leg 0 --container $BOX1 --container $BOX2
ebl custody verify $(as bbw-shipping) --bill "$BILL" --place CNQZH

step "a handoff with a seal left unchecked is refused; both carriers sign it, every seal checked"
refused SEAL_MISMATCH custody handoff $(as cr-chongqing) --bill "$BILL" --leg 0 --place CNQZH \
  --to bbw-shipping --to-key "$DEMO/keys/bbw-shipping.key" --container $BOX1 --seal $BOX1:CLS2503104471
ebl custody handoff $(as cr-chongqing) --bill "$BILL" --leg 0 --place CNQZH \
  --to bbw-shipping --to-key "$DEMO/keys/bbw-shipping.key" --container $BOX1 --container $BOX2 \
  --seal $BOX1:CLS2503104471 --seal $BOX1:CQ25C0088126 --seal $BOX2:CLS2503104472 --seal $BOX2:CQ25C0088127
refused CONTAINER_NOT_THERE custody verify $(as bbw-shipping) --bill "$BILL" --place CNQZH
ebl custody depart $(as bbw-shipping) --bill "$BILL" --leg 1 --container $BOX1 --container $BOX2

step "on payment the bank endorses to the Singapore buyer and transfers"
ebl bill endorse $(as cq-bank) --bill "$BILL" --to sg-buyer
ebl bill transfer $(as cq-bank) --bill "$BILL" --to sg-buyer

step "the exporter, divested, can no longer move the bill"
refused NOT_POSSESSOR bill transfer $(as cq-machinery) --bill "$BILL" --to cq-bank

step "the ship arrives at Singapore; Singapore customs hold the goods for inspection"
ebl custody arrive $(as bbw-shipping) --bill "$BILL" --leg 1 --container $BOX1 --container $BOX2
ebl custody hold $(as sg-customs) --bill "$BILL" --declaration SG2025-778812 --reason "inspection"
refused CUSTOMS_HOLD custody verify $(as bbw-shipping) --bill "$BILL" --container $BOX1

step "the buyer surrenders the bill for delivery; it cannot be accepted while customs hold the goods"
ebl bill surrender $(as sg-buyer) --bill "$BILL" --to cq-mto --for delivery
refused CUSTOMS_HOLD bill accept-surrender $(as sg-agency) --on-behalf-of cq-mto --bill "$BILL"
ebl custody release $(as sg-customs) --bill "$BILL" --declaration SG2025-778812 --reason "cleared"

step "the operator's agent in Singapore accepts the surrender for it; the ship delivers to the buyer"
refused OUTSIDE_DELEGATION bill transfer $(as sg-agency) --on-behalf-of cq-mto --bill "$BILL" --to cq-bank
ebl bill accept-surrender $(as sg-agency) --on-behalf-of cq-mto --bill "$BILL"
ebl custody verify $(as bbw-shipping) --bill "$BILL" --container $BOX1
ebl custody deliver $(as bbw-shipping) --bill "$BILL" --to sg-buyer --container $BOX1 --container $BOX2

step "Singapore customs look a container up: its bills and every event across legs, then a bill's custody history"
ebl find $(as sg-customs) --container $BOX1
ebl container $BOX1 $(as sg-customs)
ebl custody history $(as sg-customs) --bill "$BILL"

step "history of the bill"
ebl bill history $(as sg-buyer) --bill "$BILL"

step "title and custody at the end"
ebl title $(as sg-buyer) --bill "$BILL" --statement "$DEMO/title.note"
ebl bill show $(as sg-buyer) --bill "$BILL"

step "the transparency log: the ledger's verifier key and its latest signed checkpoint"
ebl log key > "$DEMO/keys/ledger.vkey"
cat "$DEMO/keys/ledger.vkey"
ebl log checkpoint

step "the buyer's bank takes a proof bundle and checks it offline, with nothing but the ledger's key"
ebl bundle $(as sg-buyer) --bill "$BILL" --out "$DEMO/bill.bundle.json"
EBL_SERVER=http://127.0.0.1:1 ebl verify "$DEMO/bill.bundle.json" --log-key "$DEMO/keys/ledger.vkey"
EBL_SERVER=http://127.0.0.1:1 ebl verify "$DEMO/title.note" --log-key "$DEMO/keys/ledger.vkey" --bill "$BILL"

if [ "${1:-}" = "--serve" ]; then
  echo; echo "ebld keeps serving on $EBL_SERVER (log: $DEMO/ebld.log); Ctrl-C to stop"
  wait $EBLD
else
  kill -TERM $EBLD; wait $EBLD || true
  echo; echo "demo done; ebld stopped. Data in $DATA; start it again with:"
  echo "  $BIN/ebld --data-dir $DATA --operator-key $DEMO/keys/operator.key.pub"
fi
