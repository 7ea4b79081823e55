#!/usr/bin/env bash
# Behaviour fingerprints: the SHA-256 of summary.json (and of scenario.resolved.yaml and
# viability.json) for every shipped scenario at a fixed seed, short horizons where the full
# one takes minutes, and of `depinsim schema`. A change meant to keep behaviour (a
# restructuring) must leave every line unchanged.
#
#   benches/fingerprints.sh                 # print the fingerprints of this checkout
#   benches/fingerprints.sh --check FILE    # compare with FILE; exit 1 on any difference
#
# benches/fingerprints.txt holds the fingerprints of the commit that last changed behaviour
# on purpose; a commit that changes a number on purpose updates it and says why.
set -euo pipefail
cd "$(dirname "$0")/.."
check=""
if [ "${1:-}" = "--check" ]; then
  check=${2:?usage: benches/fingerprints.sh [--check FILE]}
fi
cargo build --release --quiet
bin=target/release/depinsim
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

# label, scenario file, then the overrides that keep it short (seeds are the files' own). The
# last case covers a path no shipped scenario takes: utilisation pricing with a token.
cases=(
  "quickstart|quickstart.yaml|"
  "baseline-network|baseline-network.yaml|--set simulation.horizon_h=24 --replications 2"
  "mmc-validation|mmc-validation.yaml|--set simulation.horizon_h=10"
  "training-vs-inference|training-vs-inference.yaml|--set simulation.horizon_h=48 --replications 4"
  "oversupply|oversupply.yaml|--set simulation.horizon_h=720 --replications 2"
  "token-designs|token-designs.yaml|--set simulation.horizon_h=240 --replications 2"
  "token-helium|token-helium.yaml|"
  "token-render|token-render.yaml|"
  "agents-small-models|agents-small-models.yaml|--replications 2"
  "fine-tuning|fine-tuning.yaml|--replications 2"
  "asia-centred|asia-centred.yaml|--replications 2"
  "bench-year|bench-year.yaml|--set simulation.horizon_h=200"
  "utilisation-pricing|token-designs.yaml|--set simulation.horizon_h=240 --replications 2 --set pricing.policy=utilisation"
  "intellect-1|published/intellect-1.yaml|"
  "petals-70b|published/petals-70b.yaml|"
  "petals-swarm-1000|published/petals-swarm-1000.yaml|--set simulation.horizon_h=2"
  "trtllm-8b-fp8|published/trtllm-8b-fp8.yaml|"
)
{
  printf '%s  schema\n' "$("$bin" schema | sha256sum | cut -d' ' -f1)"
  for c in "${cases[@]}"; do
    IFS='|' read -r name file rest <<< "$c"
    # shellcheck disable=SC2206
    args=($rest)
    "$bin" viability "scenarios/$file" "${args[@]}" --threads 2 --quiet --out "$out/$name" >/dev/null
    for f in summary.json scenario.resolved.yaml viability.json; do
      printf '%s  %s/%s\n' "$(sha256sum < "$out/$name/$f" | cut -d' ' -f1)" "$name" "$f"
    done
  done
} > "$out/fingerprints.txt"

if [ -z "$check" ]; then
  cat "$out/fingerprints.txt"
elif diff -u "$check" "$out/fingerprints.txt"; then
  echo "all $(wc -l < "$check") fingerprints unchanged"
else
  echo "fingerprints differ from $check" >&2
  exit 1
fi
