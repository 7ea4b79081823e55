#!/usr/bin/env bash
# The whole GPU calibration in one go, from the package that kernels/package.sh builds (or
# from a checkout, with DEPINSIM pointing at a binary built with --features cuda): checks
# the driver and the GPU, runs every kernel's correctness check and timing on GPU 0 over the
# full grid, writes the profile to profiles/<class>-<date>.yaml and the log beside it, and
# prints the profile's table. Exit code 2: no driver or GPU (no profile written; the log says why).
set -euo pipefail
cd "$(dirname "$0")"
bin=${DEPINSIM:-./depinsim}
kernels=${KERNELS:-kernels}
[ -d "$kernels" ] || kernels=.
command -v nvidia-smi > /dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv
mkdir -p profiles
stamp=$(date -u +%Y-%m-%d)
out=profiles/measured-$stamp.yaml
log=profiles/measured-$stamp.log
"$bin" calibrate --backend cuda --grid "${GRID:-full}" --kernels "$kernels" --out "$out" 2>&1 | tee "$log"
echo "profile: $out (log: $log)"
