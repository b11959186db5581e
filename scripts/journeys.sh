#!/usr/bin/env bash
# Reference journeys 2 to 5 (README, docs/title-rules.md), title part, with the ebl CLI against a fresh ledger:
#   2. China-Europe Railway Express with a pledge (released; and a variant enforced on default)
#   3. River-sea with a change of destination: surrender for amendment, SACC, amended bill
#   4. Switch to paper
#   5. Disputes: a race from one state, a wrong transfer rejected, a revoked key refused
# Every step must go as the journey says, or the script stops with FAILED. tests/cli.rs runs it.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
json() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }

step "operator registers the parties of the journeys"
register ry-rail CARRIER "Rhein-Yangtze Rail Logistics GmbH" 5493007YZMT0K9GQ8B78
register de-exporter TRADER "Niederrhein Automobil Export GmbH" 549300MVDL4XBF8C3J95
register cq-importer TRADER "Chongqing Auto Import Co., Ltd." 3003000CQIMP0000011
register cq-finance BANK "Chongqing Logistics Finance Co." 3003000CQFIN0000012
register cq-dealer TRADER "Liangjiang Auto Dealer Co., Ltd." 3003000CQDLR0000013
register yg-shipping CARRIER "Yangtze Gateway Shipping Co., Ltd." 549300SGBX9P4TY1HE11
register cq-moto TRADER "Chongqing Yuzhong Motorcycle Manufacturing Co., Ltd." 3003000CQMOTO000014
register nl-consignee TRADER "Maasvlakte Moto Distribution B.V." 5493006DUI2RW8LNQ436
register cq-mto CARRIER "Chongqing Land-Sea Multimodal Transport Co." 3003000CQMTO0000001
register cq-machinery TRADER "Chongqing Machinery Export Co., Ltd." 5493001KJTIIGC8Y1R12
register cq-bank BANK "Bank of Chongqing, Trade Finance" 3003000CQBANK000003
register sg-buyer TRADER "Straits Heavy Equipment Pte. Ltd." 5493000SGBUY0000004
RAIL=examples/documents/cer-duisburg-chongqing-rail.json
ILSTC=examples/documents/ilstc-chongqing-qinzhou-singapore.json

step "2. Duisburg -> Chongqing by rail: issued under the no-sea-leg profile, sold to the importer"
BILL=ry-rail/RYRL25DUICKG00931
ebl bill issue $(as ry-rail) --document "$RAIL" --profile no-sea-leg --to de-exporter
ebl bill transfer $(as de-exporter) --bill "$BILL" --to cq-importer
step "2. the importer pledges the bill to the finance company for a loan"
ebl bill pledge $(as cq-importer) --bill "$BILL" --to cq-finance --mode possession --loan "CQFIN-LOAN-2026-0931"
ebl bill show $(as cq-finance) --bill "$BILL"
refused PLEDGED bill transfer $(as cq-finance) --bill "$BILL" --to cq-dealer
step "2. repaid: the pledge is released and the importer surrenders the bill; the carrier accepts"
ebl bill release-pledge $(as cq-finance) --bill "$BILL"
ebl bill surrender $(as cq-importer) --bill "$BILL" --to ry-rail --for delivery
ebl bill accept-surrender $(as ry-rail) --bill "$BILL"
[ "$(ebl title $(as cq-importer) --bill "$BILL" --json | json '["bill"]["status"]')" = ACCOMPLISHED ] || fail "not accomplished"

step "2'. variant: the importer defaults; the finance company enforces and sells to a dealer"
doc_copy "$RAIL" RYRL25DUICKG00932 > "$DEMO/rail-2.json"
BILL=ry-rail/RYRL25DUICKG00932
ebl bill issue $(as ry-rail) --document "$DEMO/rail-2.json" --profile no-sea-leg --to cq-importer
ebl bill pledge $(as cq-importer) --bill "$BILL" --to cq-finance --mode endorsement --loan "CQFIN-LOAN-2026-0932"
ebl bill enforce-pledge $(as cq-finance) --bill "$BILL" --reason "loan unpaid at maturity"
ebl bill endorse $(as cq-finance) --bill "$BILL" --to cq-dealer
ebl bill transfer $(as cq-finance) --bill "$BILL" --to cq-dealer
ebl bill history $(as cq-dealer) --bill "$BILL"
[ "$(ebl bill show $(as cq-dealer) --bill "$BILL" --json | json '["entitled"]["id"]')" = cq-dealer ] || fail "dealer not entitled"

step "3. Guoyuan port -> barge -> Shanghai -> sea: a straight bill to the Rotterdam consignee"
BILL=yg-shipping/YGSL25CKGRTM0412
ebl bill issue $(as yg-shipping) --document examples/documents/yangtze-chongqing-shanghai-sea.json --to cq-moto --consignee nl-consignee
ebl bill transfer $(as cq-moto) --bill "$BILL" --to nl-consignee
step "3. the destination changes: surrender for amendment (COD); the carrier accepts"
ebl bill surrender $(as nl-consignee) --bill "$BILL" --to yg-shipping --for cod
SACC=$(ebl bill accept-surrender $(as yg-shipping) --bill "$BILL" --json | json '["record_hash"]')
ebl bill show $(as nl-consignee) --bill "$BILL"
step "3. the carrier issues amendment 1 to Hamburg, citing the SACC; the old bill is void"
doc_copy examples/documents/yangtze-chongqing-shanghai-sea.json YGSL25CKGRTM0412 DEHAM > "$DEMO/yangtze-amended.json"
ebl bill issue $(as yg-shipping) --document "$DEMO/yangtze-amended.json" --to nl-consignee --consignee nl-consignee \
  --amendment 1 --amends "$SACC"
ebl bill show $(as nl-consignee) --bill "$BILL/1"
refused BILL_NOT_LIVE bill transfer $(as yg-shipping) --bill "$BILL" --to nl-consignee

step "4. switch to paper: the holder asks, the carrier accepts and records the paper bill"
doc_copy "$ILSTC" CLSC25CKGSIN000190 > "$DEMO/ilstc-paper.json"
BILL=cq-mto/CLSC25CKGSIN000190
ebl bill issue $(as cq-mto) --document "$DEMO/ilstc-paper.json" --to cq-machinery
ebl bill surrender $(as cq-machinery) --bill "$BILL" --to cq-mto --for swtp
ebl bill accept-surrender $(as cq-mto) --bill "$BILL" --paper-bill "CQMTO-PAPER-000190"
ebl bill show $(as cq-machinery) --bill "$BILL"
refused BILL_NOT_LIVE bill sign $(as cq-mto) --bill "$BILL"

step "5. disputes: two transfers race from one state; exactly one wins"
doc_copy "$ILSTC" CLSC25CKGSIN000191 > "$DEMO/ilstc-race.json"
BILL=cq-mto/CLSC25CKGSIN000191
ebl bill issue $(as cq-mto) --document "$DEMO/ilstc-race.json" --to cq-machinery
ebl bill transfer $(as cq-machinery) --bill "$BILL" --to cq-bank >"$DEMO/race-1" 2>&1 & R1=$!
ebl bill transfer $(as cq-machinery) --bill "$BILL" --to sg-buyer >"$DEMO/race-2" 2>&1 & R2=$!
wins=0; wait $R1 && wins=$((wins + 1)); wait $R2 && wins=$((wins + 1))
cat "$DEMO/race-1" "$DEMO/race-2"
[ "$wins" = 1 ] || fail "$wins transfers won the race"
step "5. a transfer to the wrong party is rejected by its recipient as its very next action"
HOLDER=$(ebl bill show $(as cq-machinery) --bill "$BILL" --json | json '["possessor"]["id"]')
WRONG=$([ "$HOLDER" = cq-bank ] && echo sg-buyer || echo cq-bank)
ebl bill transfer $(as "$HOLDER") --bill "$BILL" --to cq-machinery
ebl bill reject $(as cq-machinery) --bill "$BILL" --reason "not ours: sent in error"
[ "$(ebl bill show $(as "$HOLDER") --bill "$BILL" --json | json '["possessor"]["id"]')" = "$HOLDER" ] || fail "reject did not restore"
step "5. a record signed with a revoked key is refused and changes nothing"
ebl operator revoke-key "${OP[@]}" --party "$HOLDER" --public-key "$DEMO/keys/$HOLDER.key.pub"
refused KEY_REVOKED bill transfer $(as "$HOLDER") --bill "$BILL" --to "$WRONG"
ebl title $(as cq-machinery) --bill "$BILL"

kill -TERM $EBLD; wait $EBLD || true
echo; echo "journeys 2-5 done"
