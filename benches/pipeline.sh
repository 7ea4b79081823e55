#!/usr/bin/env bash
# One simulated day of scenarios/published/petals-swarm-1000.yaml (1,000 consumer GPUs in
# pipeline stages, ~3 million requests) on one thread: wall time and peak memory. Target: a
# simulated day in seconds on a 2-core machine.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
/usr/bin/time -v target/release/depinsim run scenarios/published/petals-swarm-1000.yaml \
  --threads 1 --out "$out/swarm" 2> "$out/time.txt" | tail -n 12
grep -E "Elapsed|Maximum resident" "$out/time.txt"
python3 -c "import json; r=json.load(open('$out/swarm/run.json')); print(f\"events {r['events']}, requests {r['requests']}, simulation wall {r['wall_s']:.2f} s\")"
