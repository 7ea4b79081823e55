#!/usr/bin/env bash
# One simulated year of scenarios/bench-year.yaml (1,000 provider groups, ~10 million
# requests, a stream of training and fine-tuning jobs) on one thread: wall time and peak
# memory. Targets: under 60 s and under 500 MB on a 2-core machine.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
/usr/bin/time -f "peak RSS %M KB, wall %e s" \
  target/release/depinsim run scenarios/bench-year.yaml --threads 1 --out "$out/year" 2>&1 | tail -n 3
python3 -c "import json; r=json.load(open('$out/year/run.json')); print(f\"events {r['events']}, requests {r['requests']}, simulation wall {r['wall_s']:.2f} s\")"
