#!/usr/bin/env bash
# The cluster's chaos run (docs/replication.md, "Chaos test"): three ebld nodes on loopback, two
# real witnesses, lanes of TRANSFER records; the leader is killed with SIGKILL N times at random
# moments and restarted, then left alone in a minority twice, then links are slowed. Afterwards
# every acknowledged record must be on every node at its place, the digests equal, and every
# checkpoint any leader signed consistent with the final tree. The suite runs the same test with
# 5 kills; this script runs it with --kills N (default 20) and prints its report.
#   scripts/cluster-chaos.sh [--kills N]
set -euo pipefail
cd "$(dirname "$0")/.."
KILLS=20
while [ $# -gt 0 ]; do
  case "$1" in
    --kills) KILLS=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
[ "$KILLS" -ge 1 ] && [ "$KILLS" -le 1000 ] || { echo "--kills: 1 to 1000" >&2; exit 2; }
source scripts/setup.sh
cargo build --quiet --workspace --bins
EBL_CLUSTER_KILLS=$KILLS cargo test --quiet --test cluster leader_kills -- --nocapture --test-threads 1
