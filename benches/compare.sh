#!/usr/bin/env bash
# Throughput of `depinsim run` on the M/M/8 validation scenario (one thread) against the same
# model in SimPy, measured back to back on this machine, with the ratio. Installs SimPy into
# target/bench-venv on first use. Usage: benches/compare.sh [repeats]
set -euo pipefail
cd "$(dirname "$0")/.."
repeats=${1:-5}
venv=target/bench-venv
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet "simpy==4.1.1"
fi
cargo build --release --quiet
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
best=0
for i in $(seq "$repeats"); do
  target/release/depinsim run scenarios/mmc-validation.yaml --threads 1 --quiet --out "$out/r$i"
  rps=$(python3 -c "import json;print(json.load(open('$out/r$i/run.json'))['requests_per_s'])")
  echo "depinsim run, 1 thread, try $i: $(printf '%.0f' "$rps") requests/s"
  best=$(python3 -c "print(max($best, $rps))")
done
simpy_line=$("$venv/bin/python" benches/simpy_mmc.py 20)
echo "$simpy_line"
simpy_rps=$(echo "$simpy_line" | sed -E 's/.* = ([0-9]+) requests\/s.*/\1/')
python3 -c "print(f'best depinsim {$best:.3e} requests/s = {$best/$simpy_rps:.0f}x SimPy ({$simpy_rps} requests/s)')"
