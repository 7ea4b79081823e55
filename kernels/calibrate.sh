#!/usr/bin/env bash
# The whole GPU calibration in one go, from the package that kernels/package.sh builds (or
# from a checkout, with DEPINSIM pointing at a binary built with --features cuda):
#   1. records the machine (nvidia-smi, the driver, the toolkit);
#   2. links the toolkit's NVRTC and cuBLAS where this build looks for them (libnvrtc.so,
#      libcublas.so: CUDA 13 ships only .so.13 names) and finds its headers for NVRTC;
#   3. compiles every kernel for this GPU and prints the compiler's resource report;
#   4. runs every kernel's correctness check against a CPU reference, then its timings, on
#      GPU 0 over the grid (GRID=full, or small), and writes the profile;
#   5. prints the profile's table and whether the GPU targets were met.
# Everything printed also goes to the log beside the profile, in PROFILE_DIR (default
# profiles/ beside this script): measured-<date>.yaml and measured-<date>.log.
# Exit code 2: no driver, NVRTC, cuBLAS or GPU (no profile written; the log says why);
# 1: a kernel failed its check (nothing of it timed).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bin=${DEPINSIM:-$here/depinsim}
kernels=${KERNELS:-$here/kernels}
[ -d "$kernels" ] || kernels=$here
outdir=${PROFILE_DIR:-$here/profiles}
mkdir -p "$outdir"
stamp=$(date -u +%Y-%m-%d)
out=$outdir/measured-$stamp.yaml
n=1
while [ -e "$out" ]; do n=$((n + 1)); out=$outdir/measured-$stamp-$n.yaml; done
log=${out%.yaml}.log

# Everything the calibration prints, which also goes to the log.
calibrate() {
set -e
echo "== $(date -u +%Y-%m-%dT%H:%M:%SZ), $(uname -srm)"
if command -v nvidia-smi > /dev/null; then
  nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm,clocks.max.sm,power.limit --format=csv || true
fi
[ -r /proc/driver/nvidia/version ] && head -1 /proc/driver/nvidia/version

# The toolkit: CUDA_HOME, else that of an nvcc on PATH or in /usr/local/cuda.
if [ -z "${CUDA_HOME:-}" ]; then
  nvcc=$(command -v nvcc || ls /usr/local/cuda/bin/nvcc 2> /dev/null || true)
  if [ -n "$nvcc" ]; then
    CUDA_HOME=$(dirname "$(dirname "$(readlink -f "$nvcc")")")
    export CUDA_HOME
  fi
fi
echo "CUDA_HOME=${CUDA_HOME:-unset}"
[ -n "${CUDA_HOME:-}" ] && [ -x "$CUDA_HOME/bin/nvcc" ] && "$CUDA_HOME/bin/nvcc" --version | tail -2

# Libraries: the first folder that has each, linked under its unversioned name.
search=()
[ -n "${CUDA_HOME:-}" ] && search+=("$CUDA_HOME/lib64" "$CUDA_HOME/lib" "$CUDA_HOME/targets/x86_64-linux/lib")
search+=(/usr/local/cuda/lib64 /usr/local/cuda/targets/x86_64-linux/lib /usr/lib/x86_64-linux-gnu)
if command -v python3 > /dev/null; then
  while read -r site; do
    for d in "$site"/nvidia/*/lib; do [ -d "$d" ] && search+=("$d"); done
  done < <(python3 -c 'import site; print("\n".join(site.getsitepackages()))' 2> /dev/null || true)
fi
libdir=$here/lib
mkdir -p "$libdir"
dirs=()
for name in libnvrtc libcublas libcublasLt; do
  found=
  for d in "${search[@]}"; do
    f=$(ls "$d/$name".so.* 2> /dev/null | grep -v '\.alt\.' | sort -V | head -1 || true)
    if [ -n "$f" ]; then
      ln -sf "$f" "$libdir/$name.so"
      dirs+=("$d")
      found=$f
      break
    fi
  done
  echo "$name: ${found:-not found}"
done
LD_LIBRARY_PATH=$libdir$(printf ':%s' "${dirs[@]}")${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
export LD_LIBRARY_PATH

echo "== compile"
"$bin" calibrate --backend cuda --compile-only --kernels "$kernels"
echo "== calibrate (grid ${GRID:-full})"
start=$(date +%s)
"$bin" calibrate --backend cuda --grid "${GRID:-full}" --kernels "$kernels" --out "$out"
echo "== done in $(($(date +%s) - start)) s: profile $out, log $log"
}
set +e
calibrate 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
exit "$status"
