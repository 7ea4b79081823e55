#!/usr/bin/env bash
# The report of a one-day run (scenarios/quickstart.yaml: 8 replications of 24 hours, its
# charts as PNG and SVG, report.html and report.md), and of a sweep of 1,000 variants (a tiny
# M/M/8, one parameter): wall time of `depinsim report`, best of five (of three for the
# sweep), beside the run's own time, and the pages' sizes.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
bin=target/release/depinsim
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
# best_of N COMMAND...: the shortest wall time of N runs of COMMAND, seconds.
best_of() {
  local n=$1 best=999 start t
  shift
  for _ in $(seq "$n"); do
    start=$(date +%s.%N)
    "$@"
    t=$(echo "$(date +%s.%N) - $start" | bc)
    best=$(echo "if ($t < $best) $t else $best" | bc)
  done
  echo "$best"
}
start=$(date +%s.%N)
"$bin" run scenarios/quickstart.yaml --quiet --no-report --out "$out/run"
run_s=$(echo "$(date +%s.%N) - $start" | bc)
best=$(best_of 5 "$bin" report "$out/run" --quiet)
printf 'run of one simulated day: %.2f s; its report: %.3f s (best of 5); report.html %s bytes; %s charts\n' \
  "$run_s" "$best" "$(stat -c %s "$out/run/report.html")" "$(ls "$out/run/plots" | grep -c png)"

cat > "$out/s1000.yaml" <<YAML
base: $(pwd)/scenarios/mmc-validation.yaml
design:
  random:
    samples: 1000
    axes: [{path: inference.users.0.rate_per_s, low: 5, high: 6}]
YAML
"$bin" sweep "$out/s1000.yaml" --set simulation.horizon_h=0.2 --set simulation.warmup_h=0.05 \
  --set simulation.epoch_h=0.1 --replications 1 --quiet --no-report --out "$out/s1000"
best=$(best_of 3 "$bin" report "$out/s1000" --quiet)
printf 'sweep of 1,000 variants: its report %.3f s (best of 3); report.html %s bytes; %s charts\n' \
  "$best" "$(stat -c %s "$out/s1000/report.html")" "$(ls "$out/s1000/plots" | grep -c png)"
