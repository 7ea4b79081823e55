#!/usr/bin/env bash
# The report of a one-day run (scenarios/quickstart.yaml: 8 replications of 24 hours, nine
# charts as PNG and SVG, report.html and report.md): wall time of `depinsim report`, best of
# five, with the run's own time beside it, and the page's size.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
bin=target/release/depinsim
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
start=$(date +%s.%N)
"$bin" run scenarios/quickstart.yaml --quiet --no-report --out "$out/run"
run_s=$(echo "$(date +%s.%N) - $start" | bc)
best=999
for _ in 1 2 3 4 5; do
  start=$(date +%s.%N)
  "$bin" report "$out/run" --quiet
  t=$(echo "$(date +%s.%N) - $start" | bc)
  best=$(echo "if ($t < $best) $t else $best" | bc)
done
printf 'run of one simulated day: %.2f s; its report: %.3f s (best of 5); report.html %s bytes; %s charts\n' \
  "$run_s" "$best" "$(stat -c %s "$out/run/report.html")" "$(ls "$out/run/plots" | grep -c png)"
