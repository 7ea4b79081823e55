#!/usr/bin/env bash
# The shipped scenarios' baselines: what `depinsim check` holds the project's economics to.
# Each scenario runs in a short configuration (the overrides below, kept in its baseline and
# applied again by `check`); scenarios/baselines/<path>.baseline.json mirrors
# scenarios/<path>.yaml.
#
#   scenarios/baselines/baselines.sh check [JUNIT_DIR]  # check every baseline (CI) and draw each
#                                                       # run's report; exit 1 on a regression,
#                                                       # 3 if only inconclusive
#   scenarios/baselines/baselines.sh update             # write NAME.baseline.pending.json
#                                                       # beside each, and print what changed
#   scenarios/baselines/baselines.sh write              # write them all anew (replaces them)
#
# A change that moves a metric beyond its margin on purpose runs `update`, reviews the
# differences it prints, and renames each pending file over its baseline in the same commit.
# bench-year.yaml is left out: a benchmark of speed, whose 13,000 per-group metrics would make
# a baseline nobody can review.
set -euo pipefail
cd "$(dirname "$0")/../.."
bin=${DEPINSIM_BIN:-target/release/depinsim}
mode=${1:?usage: scenarios/baselines/baselines.sh check [JUNIT_DIR] | update | write}
junit=${2:-}

# scenario file (under scenarios/), then the overrides that keep it short.
cases=(
  "quickstart.yaml|"
  "baseline-network.yaml|--set simulation.horizon_h=48"
  "mmc-validation.yaml|--set simulation.horizon_h=10"
  "training-vs-inference.yaml|--set simulation.horizon_h=48 --replications 4"
  "oversupply.yaml|--set simulation.horizon_h=720 --replications 4"
  "token-designs.yaml|--set simulation.horizon_h=240 --replications 4"
  "token-helium.yaml|--replications 4"
  "token-render.yaml|--replications 4"
  "agents-small-models.yaml|--replications 4"
  "fine-tuning.yaml|"
  "asia-centred.yaml|--replications 4"
  "published/intellect-1.yaml|"
  "published/petals-70b.yaml|"
  "published/petals-swarm-1000.yaml|--set simulation.horizon_h=2 --replications 4"
  "published/trtllm-8b-fp8.yaml|--replications 4"
)

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
worst=0
for c in "${cases[@]}"; do
  IFS='|' read -r file rest <<< "$c"
  # shellcheck disable=SC2206
  args=($rest)
  baseline="scenarios/baselines/${file%.yaml}.baseline.json"
  case "$mode" in
    write) "$bin" baseline "scenarios/$file" "${args[@]}" --quiet --force --out "$baseline" ;;
    update) "$bin" baseline "scenarios/$file" "${args[@]}" --update --force --out "$baseline" ;;
    check)
      extra=()
      if [ -n "$junit" ]; then
        mkdir -p "$junit"
        extra=(--junit "$junit/$(basename "${file%.yaml}").xml" --force)
      fi
      # The run is kept and reported on, so that every shipped scenario also draws its
      # charts and page in CI.
      out="$work/${file%.yaml}"
      set +e
      "$bin" check "scenarios/$file" --baseline "$baseline" --quiet --out "$out" "${extra[@]}"
      code=$?
      set -e
      "$bin" report "$out" --quiet
      echo "  ^ $file (exit $code)"
      case "$code" in
        0) ;;
        1) worst=1 ;;
        3) [ "$worst" = 1 ] || worst=3 ;;
        *) exit "$code" ;;
      esac
      ;;
    *) echo "unknown mode $mode" >&2; exit 2 ;;
  esac
done
exit "$worst"
