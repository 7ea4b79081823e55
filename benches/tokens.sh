#!/usr/bin/env bash
# Ten simulated years of daily token epochs with 10,000 provider groups: how much run time
# the token economy adds beyond the workload. Runs the same generated scenario with and
# without its token section, and with the whole economy (staking, lock-up, a market pool,
# settlement, supply reviews), one replication on one thread, and prints the wall times.
# Target: the difference well under a second on a 2-core machine.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
python3 - "$dir/tokens.yaml" <<'PY'
import sys
with open(sys.argv[1], "w") as f:
    f.write("""name: bench-tokens
simulation: {horizon_h: 87660, warmup_h: 24, epoch_h: 8766, replications: 1, seed: 1}
regions: [{name: a}]
providers:
""")
    for i in range(10000):
        gpu = "h100_sxm" if i % 4 == 0 else "rtx_4090"
        f.write(f"  - {{name: p{i:05d}, region: a, gpu: {gpu}, count: 1, hourly_cost_usd: 0.2}}\n")
    f.write("""inference:
  model: {name: llama-3.1-8b, context_tokens: 32768}
  users: [{region: a, rate_per_s: 0.00001}]
token:
  emission:
    schedule: {exponential_decay: {initial_per_epoch: 100000, decay: 0.01, period_h: 730.5}}
    epoch_h: 24
    initial_supply: 1000000000
  price: {gbm: {initial_usd: 1.0, drift_per_year: 0.0, volatility_per_year: 0.8}}
  work_share: 0.5
""")
PY
run() {
  local label=$1; shift
  target/release/depinsim run "$dir/tokens.yaml" --threads 1 --quiet --force --out "$dir/$label" "$@"
  python3 -c "import json, sys; r=json.load(open(sys.argv[1])); print(f\"{sys.argv[2]:<16} wall {r['wall_s']:.3f} s, events {r['events']}\")" "$dir/$label/run.json" "$label"
}
run with-tokens
run without-tokens --set token=null
# The whole economy: stakes for every GPU, slashing, a reward lock-up, a market pool with
# speculation, settlement fees, and weekly supply reviews.
run full-economy \
  --set 'token.staking={per_gpu: 1000, slash_per_failure: 0.01}' \
  --set 'token.reward_lockup={share: 0.75, release_h: 4320}' \
  --set 'token.price={amm: {token_reserve: 100000000, usd_reserve: 100000000, provider_sell_share: 0.5, speculation_usd_per_day: 100000}}' \
  --set 'token.settlement={chain: {solana: {sol_usd: 150}}, batch: 100}' \
  --set 'supply={review_h: 168}'
