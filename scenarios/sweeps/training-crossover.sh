#!/usr/bin/env bash
# Sensitivity sweep over scenarios/training-vs-inference.yaml: where does pretraining a 70B
# model on the network become viable? Varies, one at a time, the consumer hosts' bandwidth
# (Mbit/s), their GPUs' mean time between failures (h) and the model size (billions of
# parameters), and prints the pretraining cost and time ratios (network / cloud) and verdict.
# Usage: scenarios/sweeps/training-crossover.sh [extra depinsim options, e.g. --replications 4]
set -euo pipefail
cd "$(dirname "$0")/../.."
cargo build --release --quiet
bin=target/release/depinsim
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
row() {  # label, then --set arguments
  local label=$1; shift
  "$bin" viability scenarios/training-vs-inference.yaml --quiet --out "$out/run" --force \
    --set simulation.horizon_h=72 "$@" "${EXTRA[@]}" > /dev/null
  python3 - "$label" "$out/run/viability.json" <<'PY'
import json, sys
rows = {r["workload"]: r for r in json.load(open(sys.argv[2]))}
p = rows["pretrain-70b"]
f = lambda m: "-" if m is None else f"{m['mean']:.3g}"
print(f"{sys.argv[1]:<28} cost ratio {f(p['cost_ratio']):>8}  time ratio {f(p['time_ratio']):>8}  {p['verdict']}")
PY
}
EXTRA=("$@")
echo "pretrain-70b on the network against the cloud (horizon 72 h)"
for mbps in 1000 10000 100000 400000; do
  row "host bandwidth ${mbps} Mbit/s" --set "regions.eu-central.bandwidth_mbps=$mbps"
done
for mtbf in 50 500 5000; do
  row "consumer MTBF ${mtbf} h" --set "providers.eu-gamers-4090.mtbf_h=$mtbf"
done
for b in 8 30 70; do
  row "model ${b}B parameters" --set "training.pretrain-70b.params_b=$b"
done
