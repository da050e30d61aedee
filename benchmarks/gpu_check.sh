#!/usr/bin/env bash
# The GPU check, run on a machine with an NVIDIA GPU, CuPy and PyTorch CUDA (no network needed):
#   benchmarks/gpu_check.sh OUTDIR
# Expects Fashion-MNIST under $FCNET_DATA (default .gpu/data) and, if tomli-w is not installed,
# its wheel in .gpu/wheels.  Writes versions, the oracle/gradcheck suites on CUDA, the GPU
# benchmark and a 10-epoch Fashion-MNIST run into OUTDIR.
set -u
out=${1:-gpu-out}
mkdir -p "$out"
export PYTHONPATH=$PWD/src FCNET_DATA=${FCNET_DATA:-$PWD/.gpu/data} FCNET_OFFLINE=1 MPLBACKEND=Agg
py=${PYTHON:-python3}
$py -c "import tomli_w" 2>/dev/null || $py -m pip install -q --no-index --no-deps .gpu/wheels/*.whl
{ nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv
  $py -c "import sys, numpy, cupy, torch; print(sys.version); print('numpy', numpy.__version__, 'cupy', cupy.__version__, 'torch', torch.__version__, torch.cuda.is_available())"
} > "$out/versions.txt" 2>&1
start=$(date +%s)
timeout 180 $py -m pytest -q -p no:cacheprovider --maxfail=40 -rf --tb=line tests/oracle tests/property tests/gpu -k "cuda" \
  > "$out/pytest_cuda.txt" 2>&1
echo "pytest exit $? after $(( $(date +%s) - start )) s" >> "$out/pytest_cuda.txt"
timeout 90 $py -m fcnet train --data fashion-mnist --hidden 512,256 --epochs 10 --optimizer adam --lr 1e-3 \
  --batch-size 128 --device cuda --out /tmp/fcnet-gpu-run --overwrite --quiet > "$out/train_cuda.txt" 2>&1
echo "train exit $?" >> "$out/train_cuda.txt"
timeout 150 $py -m fcnet bench --device cuda --nets fashion,cifar --repeats 3 > "$out/bench_cuda.md" 2> "$out/bench_cuda.log"
echo "bench exit $?" >> "$out/bench_cuda.log"
echo "total $(( $(date +%s) - start )) s" >> "$out/versions.txt"
