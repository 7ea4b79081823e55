#!/usr/bin/env bash
# Instruction counts (callgrind) of two runs on one thread: the M/M/8 validation scenario
# (the request hot path: arrivals, queue, drawn service) for 5 simulated hours and one
# replication, and scenarios/bench-year.yaml (1,000 groups, batching, jobs, failures) for
# 400 hours. Instruction counts repeat exactly for the same binary and inputs, whatever else
# the machine is doing, so they compare two commits where wall time cannot.
#
#   benches/instructions.sh        # needs valgrind (Debian: apt-get install valgrind)
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
count() {
  local name=$1
  shift
  valgrind --tool=callgrind --callgrind-out-file="$out/$name.cg" \
    target/release/depinsim run "$@" --threads 1 --quiet --out "$out/$name" 2> "$out/$name.log"
  printf '%-16s %s instructions\n' "$name" "$(grep -o 'Collected : [0-9]*' "$out/$name.log" | grep -o '[0-9]*$')"
}
count mmc-5h scenarios/mmc-validation.yaml --replications 1 --set simulation.horizon_h=5
count bench-year-400h scenarios/bench-year.yaml --set simulation.horizon_h=400
