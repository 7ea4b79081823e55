#!/usr/bin/env bash
# Settlement comparison over scenarios/token-designs.yaml: what does settling every answer's
# payment on a chain cost against what users pay, on Solana, on Ethereum L1 and on an L2, one
# payment per transaction or batched? Prints the chain's fees, users' payments, the share of
# them that goes to the chain, and what providers keep.
#
# Chain prices (assumed, late 2025): SOL 150 USD; Ethereum at 2 gwei and 3,400 USD/ETH (busy
# 2021-24 periods were 20-100+ gwei: try `--set` on the gas price); an L2 at 0.01 USD per
# transaction (assumed).
# Usage: scenarios/sweeps/settlement.sh [extra depinsim options, e.g. --replications 2]
set -euo pipefail
cd "$(dirname "$0")/../.."
cargo build --release --quiet
bin=target/release/depinsim
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
EXTRA=("$@")
row() {  # label, chain, batch
  "$bin" run scenarios/token-designs.yaml --quiet --out "$out/run" --force \
    --set simulation.horizon_h=168 --set simulation.replications=1 \
    --set "token.settlement={chain: $2, batch: $3}" "${EXTRA[@]}" > /dev/null
  python3 - "$1" "$out/run/summary.json" <<'PY'
import json, sys
m = json.load(open(sys.argv[2]))["metrics"]
g = lambda k: m[k]["mean"]
fees, paid = g("token.chain_fees_usd.total"), g("token.users_paid_usd.total")
print(f"{sys.argv[1]:<26} chain {fees:>12,.2f} USD  users paid {paid:>10,.2f} USD  "
      f"chain share {fees / paid:>8.2%}  providers kept {g('provider.fees_received_usd.total'):>12,.2f} USD")
PY
}
echo "one week of the token-designs network, every answer a payment"
for batch in 1 100 10000; do
  row "solana, batch $batch" "{solana: {sol_usd: 150}}" "$batch"
  row "ethereum L1, batch $batch" "{ethereum: {gas_price_gwei: 2, eth_usd: 3400}}" "$batch"
  row "L2, batch $batch" "{l2: {fee_per_tx_usd: 0.01}}" "$batch"
done
