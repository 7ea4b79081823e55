#!/usr/bin/env bash
# Installs NVRTC and the CUDA headers the kernels include (NVIDIA's own PyPI wheels: no
# toolkit, no GPU, no root) into DIR (default target/nvrtc), with libnvrtc.so linked to the
# versioned library, so that a build with --features cuda can compile the kernels here:
#
#   kernels/nvrtc.sh && . target/nvrtc/env.sh
#   depinsim calibrate --backend cuda --compile-only
#
# The version matches the CUDA 13.0 of the GPU machines the project calibrates on; set
# NVRTC_VERSION (e.g. 12.8) for another. env.sh sets LD_LIBRARY_PATH and CUDA_HOME.
set -euo pipefail
dir=${1:-target/nvrtc}
version=${NVRTC_VERSION:-13.0}
major=${version%%.*}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
if [ "$major" -ge 13 ]; then
  pkgs=("nvidia-cuda-nvrtc==$version.*" "nvidia-cuda-runtime==$version.*" "nvidia-cuda-crt==$version.*")
  sub=cu$major
else
  pkgs=("nvidia-cuda-nvrtc-cu$major==$version.*" "nvidia-cuda-runtime-cu$major==$version.*")
  sub=
fi
if [ ! -f "$dir/.installed-$version" ]; then
  python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore --no-deps --target "$dir/site" "${pkgs[@]}"
  touch "$dir/.installed-$version"
fi
# The wheels' layouts: nvidia/cu13/{lib,include} (13.x), nvidia/cuda_*/{lib,include} (12.x).
if [ -n "$sub" ]; then
  lib="$dir/site/nvidia/$sub/lib"
  inc="$dir/site/nvidia/$sub/include"
else
  lib="$dir/site/nvidia/cuda_nvrtc/lib"
  inc="$dir/site/nvidia/cuda_runtime/include"
fi
mkdir -p "$dir/lib"
ln -sf "$(ls "$lib"/libnvrtc.so.* | grep -v alt | head -1)" "$dir/lib/libnvrtc.so"
for f in "$lib"/libnvrtc-builtins.so.*; do case "$f" in *alt*) ;; *) ln -sf "$f" "$dir/lib/";; esac; done
ln -sfn "$inc" "$dir/include"
cat > "$dir/env.sh" <<ENV
export LD_LIBRARY_PATH="$dir/lib:$lib\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH}"
export CUDA_HOME="$dir"
ENV
echo "NVRTC $version in $dir (source $dir/env.sh)"
