#!/usr/bin/env bash
# Every shipped sweep, run as shipped with its report, then compared: what CI runs so that no
# sweep in scenarios/sweeps/ stops loading, running or reporting.
#
#   scenarios/sweeps/sweeps.sh            # every *.yaml here
#   scenarios/sweeps/sweeps.sh FILE...    # the ones named
#
# Each sweep writes into a temporary folder (removed at the end) and must leave summary files
# for every variant, compare.json, report.html and report.md; `depinsim compare` must read it.
set -euo pipefail
cd "$(dirname "$0")/../.."
bin=${DEPINSIM_BIN:-target/release/depinsim}
if [ "$#" -gt 0 ]; then files=("$@"); else files=(scenarios/sweeps/*.yaml); fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for file in "${files[@]}"; do
  name=$(basename "${file%.yaml}")
  out="$work/$name"
  start=$SECONDS
  "$bin" sweep "$file" --out "$out" --quiet
  for f in compare.json report.html report.md sweep.json results.parquet; do
    test -s "$out/$f" || { echo "$file: no $f in its output" >&2; exit 1; }
  done
  "$bin" compare "$out" > "$out/compare.txt"
  test -s "$out/compare.txt" || { echo "$file: depinsim compare printed nothing" >&2; exit 1; }
  echo "  ^ $file: $(ls "$out/variants" | wc -l) variants, report and compare in $((SECONDS - start)) s"
done
