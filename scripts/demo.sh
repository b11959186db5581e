#!/usr/bin/env bash
# The main job from a fresh machine: installs what is missing, builds, initialises a ledger on a
# fresh data folder, starts ebld, and walks the title part of reference journey 1 (rail-sea
# Chongqing -> Qinzhou -> Singapore, financed by a letter of credit) with the ebl CLI, the
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

step "cq-mto appoints its Singapore agent to decide surrenders at the port of discharge (both sign)"
ebl operator delegate "${OP[@]}" --principal cq-mto --principal-key "$DEMO/keys/cq-mto.key" \
  --agent sg-agency --actions SACC,SREJ --reference "agency agreement SG-2026-14"

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
refused NOT_POSSESSOR bill transfer $(as cq-machinery) --bill "$BILL" --to cq-bank

step "in Singapore the buyer surrenders the bill for delivery; the operator's agent accepts for it"
ebl bill surrender $(as sg-buyer) --bill "$BILL" --to cq-mto --for delivery
refused OUTSIDE_DELEGATION bill transfer $(as sg-agency) --on-behalf-of cq-mto --bill "$BILL" --to cq-bank
ebl bill accept-surrender $(as sg-agency) --on-behalf-of cq-mto --bill "$BILL"

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
