#!/usr/bin/env bash
# Sweep benchmarks (figures, not pass/fail):
# 1. scaling: the same sweep (4 variants x 4 replications of the quickstart, 24 h) on 1 and on
#    2 threads, and the ratio of their wall times (target: at least 1.9 on 2 cores);
# 2. per-variant overhead: 200 variants x 1 replication of a tiny M/M/8 against `run` of the
#    same scenario with 200 replications (the same simulation work, loaded once): the
#    difference per variant is what a variant costs beyond its simulation (load and check
#    twice, write its cell and summary, assemble);
# 3. memory: peak RSS of a 100-variant and a 10,000-variant sweep of the tiny M/M/8
#    (target: flat in the number of variants).
#   benches/sweep.sh [--quick]   (--quick: 1,000 variants instead of 10,000 in 3)
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
bin=target/release/depinsim
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
big=10000
[ "${1:-}" = --quick ] && big=1000
wall() {  # seconds of wall time of a command
  local t0 t1
  t0=$(date +%s.%N)
  "$@" > /dev/null
  t1=$(date +%s.%N)
  python3 -c "print(f'{$t1 - $t0:.3f}')"
}

echo "== 1. scaling: 4 variants x 4 replications of the quickstart (24 h)"
scale=(sweep scenarios/quickstart.yaml --grid 'inference.users.0.rate_per_s=[1.5, 2, 2.5, 3]'
  --set simulation.horizon_h=24 --replications 4 --quiet --no-report)
t1=$(wall "$bin" "${scale[@]}" --threads 1 --out "$out/t1")
t2=$(wall "$bin" "${scale[@]}" --threads 2 --out "$out/t2")
python3 -c "print(f'1 thread {$t1:.2f} s, 2 threads {$t2:.2f} s: speed-up {$t1 / $t2:.2f}x')"
cmp -s "$out/t1/results.parquet" "$out/t2/results.parquet" && echo "results.parquet identical"

echo "== 2. per-variant overhead: 200 variants x 1 replication of a tiny M/M/8 (1 h)"
tiny=(--set simulation.horizon_h=1 --set simulation.warmup_h=0.1 --set simulation.epoch_h=0.5)
cat > "$out/tiny.yaml" <<YAML
base: $(pwd)/scenarios/mmc-validation.yaml
design:
  random:
    samples: 200
    axes: [{path: inference.users.0.rate_per_s, low: 5, high: 6}]
YAML
ts=$(wall "$bin" sweep "$out/tiny.yaml" "${tiny[@]}" --replications 1 --threads 1 --quiet --no-report --out "$out/tiny")
tr=$(wall "$bin" run scenarios/mmc-validation.yaml "${tiny[@]}" --replications 200 --threads 1 --quiet --no-report --out "$out/run")
python3 -c "print(f'sweep {$ts:.2f} s, run of the same 200 replications {$tr:.2f} s: {($ts - $tr) / 200 * 1000:.1f} ms per variant beyond its simulation ({$tr / 200 * 1000:.1f} ms)')"

echo "== 3. memory: peak RSS of sweeps of the tiny M/M/8 (0.2 h, 1 replication)"
for n in 100 $big; do
  sed -e "s/samples: 200/samples: $n/" "$out/tiny.yaml" > "$out/m$n.yaml"
  /usr/bin/time -f "$n variants: peak RSS %M KB, wall %e s" "$bin" sweep "$out/m$n.yaml" \
    --set simulation.horizon_h=0.2 --set simulation.warmup_h=0.05 --set simulation.epoch_h=0.1 \
    --replications 1 --quiet --no-report --out "$out/m$n" 2>&1 | tail -n 1
done
