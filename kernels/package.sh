#!/usr/bin/env bash
# Builds depinsim with the `cuda` feature on this (x86-64) machine, checks that every kernel
# compiles with NVRTC without local memory (kernels/nvrtc.sh installs NVRTC from PyPI; no
# GPU needed), and packs the stripped binary, the kernel sources and calibrate.sh into
# dist/depinsim-cuda.tar.gz (and dist/depinsim-cuda/), for a GPU machine that has the NVIDIA
# driver and CUDA toolkit but no network and no Rust toolchain.
# There: tar xzf depinsim-cuda.tar.gz && ./depinsim-cuda/calibrate.sh
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --features cuda --quiet
kernels/nvrtc.sh > /dev/null
(. target/nvrtc/env.sh && target/release/depinsim calibrate --backend cuda --compile-only > /dev/null)
dist=dist/depinsim-cuda
rm -rf "$dist"
mkdir -p "$dist/kernels"
cp target/release/depinsim "$dist/depinsim"
strip "$dist/depinsim"
cp kernels/*.cu "$dist/kernels/"
cp kernels/calibrate.sh "$dist/calibrate.sh"
tar -C dist -czf dist/depinsim-cuda.tar.gz depinsim-cuda
size=$(stat -c %s dist/depinsim-cuda.tar.gz)
echo "dist/depinsim-cuda.tar.gz: $((size / 1024 / 1024)) MiB (kernels compile for sm_80-sm_90)"
test "$size" -lt $((64 * 1024 * 1024)) || { echo "over 64 MiB" >&2; exit 1; }
