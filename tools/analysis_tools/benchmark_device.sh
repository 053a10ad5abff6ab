#!/usr/bin/env bash
# The device benchmark, once, on a GPU machine: ResNet-101 at 256x256, batch 32 + 32, source
# only and RegDA, float32 / float16 / bfloat16, channels-last and NCHW (iteration counts sized
# for a 5-minute device run; not yet timed on a GPU). Figures go to the console and to
# ${OUT:-.}/benchmark_device.json.
#
#   bash tools/analysis_tools/benchmark_device.sh                  # on the GPU
#   bash tools/analysis_tools/benchmark_device.sh --device cpu --depth 18 --input-size 64 \
#       --batch-size 2 --iters 2 --warmup 1                        # checks the script on a CPU
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT_DIR=${OUT:-.}
mkdir -p "$OUT_DIR"
if command -v nvidia-smi >/dev/null 2>&1; then
    nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true
fi
exec python tools/analysis_tools/benchmark_device.py --json "$OUT_DIR/benchmark_device.json" "$@"
