#!/usr/bin/env bash
# gpu_compare.sh - the GPU figures of issue 5 in one run (needs a CUDA device).
#
#   1. mnist_mlp epoch at batch 64: `nnc train --backend=cuda` (the epoch
#      line's samples/s: no compile or data loading in it), and without
#      split-K, against PyTorch eager on the same GPU (pytorch_gpu.py --what
#      epoch, data on the GPU), R rounds interleaved.
#   2. benchmarks/mlp4096.nn (4 dense layers of width 4096) at batch 4096:
#      `nnc bench --backend=cuda`, fused and unfused, step and kernels, and
#      fused with --precision tf32, against PyTorch eager (cuBLAS) in fp32
#      and with TF32 enabled.
#   3. The GEMM tiles on that MLP, fused, fp32: the default (128 x 128
#      tiles, compiled for one block per multiprocessor), the big tiles
#      compiled for two blocks (NNC_CUDA_BIG_MIN_BLOCKS=2: at most 128
#      registers, some spills), and 64 x 64 tiles only
#      (NNC_CUDA_BIG_TILES_FROM larger than any product).
# Then the medians and the ratios against the targets (epoch: nnc 3x faster
# than PyTorch; mlp4096 step: within 1.3x of PyTorch fp32, 1.5x of TF32).
#
# Usage: benchmarks/gpu_compare.sh [--nnc PATH] [--python PATH] [--rounds R]
#          [--out DIR]
# Defaults: build/nnc, python3 (a PyTorch with CUDA; Debian's is CPU-only),
# 3 rounds, a temp folder for the raw outputs (kept, and printed).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
nnc=$root/build/nnc
python=python3
rounds=3
out=

die() {
  echo "gpu_compare.sh: error: $*" >&2
  exit 1
}
while [ $# -gt 0 ]; do
  case $1 in
  --nnc | --python | --rounds | --out)
    [ $# -ge 2 ] || die "'$1' needs a value"
    declare "${1#--}=$2"
    shift 2
    ;;
  -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; exit 0 ;;
  *) die "unknown flag '$1' (see --help)" ;;
  esac
done
[[ $rounds =~ ^[1-9][0-9]*$ ]] || die "--rounds needs a positive integer, not '$rounds'"
[ -x "$nnc" ] || die "$nnc: no nnc binary (build it, or pass --nnc PATH)"
[ -n "$out" ] || out=$(mktemp -d)
mkdir -p "$out"
"$python" -c 'import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)' ||
  die "$python has no PyTorch with a CUDA device (pass --python PATH)"

echo "raw outputs: $out"
nvidia-smi --query-gpu=name,clocks.max.sm,power.limit --format=csv,noheader 2>/dev/null || true

# 1. mnist_mlp epochs.
for r in $(seq 1 "$rounds"); do
  "$nnc" train "$root/examples/mnist_mlp.nn" --epochs 1 --validation 0 \
    --backend=cuda >"$out/nnc_epoch_$r.log" 2>&1 ||
    { cat "$out/nnc_epoch_$r.log" >&2; die "nnc train --backend=cuda failed"; }
  sps=$(sed -n 's/^epoch 1\/1 .* \([0-9][0-9]*\) samples\/s.*/\1/p' "$out/nnc_epoch_$r.log" | tail -1)
  [ -n "$sps" ] || die "no epoch line in $out/nnc_epoch_$r.log"
  awk -v s="$sps" 'BEGIN { printf "%.4f\n", 60000 / s }' >>"$out/nnc_epoch.times"
  # The same without split-K (its small GEMMs as few blocks).
  NNC_CUDA_SPLIT_K=0 "$nnc" train "$root/examples/mnist_mlp.nn" --epochs 1 \
    --validation 0 --backend=cuda >"$out/nnc_epoch_nosplit_$r.log" 2>&1 ||
    die "nnc train --backend=cuda failed (NNC_CUDA_SPLIT_K=0)"
  sps=$(sed -n 's/^epoch 1\/1 .* \([0-9][0-9]*\) samples\/s.*/\1/p' "$out/nnc_epoch_nosplit_$r.log" | tail -1)
  awk -v s="$sps" 'BEGIN { printf "%.4f\n", 60000 / s }' >>"$out/nnc_epoch_nosplit.times"
  "$python" "$root/benchmarks/pytorch_gpu.py" --what epoch --repeats 1 \
    >"$out/torch_epoch_$r.json"
  echo "round $r/$rounds: nnc $(tail -1 "$out/nnc_epoch.times") s, PyTorch" \
    "$("$python" -c 'import json,sys; print("%.4f" % json.load(open(sys.argv[1]))["median_s"])' "$out/torch_epoch_$r.json") s"
done

# 2. The 4096-wide MLP.
"$nnc" bench "$root/benchmarks/mlp4096.nn" --backend=cuda --batch 4096 \
  --repeats 10 --warmup 2 >"$out/nnc_mlp.txt"
"$nnc" bench "$root/benchmarks/mlp4096.nn" --backend=cuda --batch 4096 \
  --repeats 10 --warmup 2 --json >"$out/nnc_mlp.json"
"$nnc" bench "$root/benchmarks/mlp4096.nn" --backend=cuda --batch 4096 \
  --repeats 10 --warmup 2 --fuse all --precision tf32 --json >"$out/nnc_mlp_tf32.json"
for p in fp32 tf32; do
  "$python" "$root/benchmarks/pytorch_gpu.py" --what mlp --precision $p \
    >"$out/torch_mlp_$p.json"
done
cat "$out/nnc_mlp.txt"

# 3. The GEMM tiles.
tiles() { # NAME [VAR=VALUE]: the fused fp32 step, as JSON in $out/tiles_NAME.json
  local name=$1
  shift
  env "$@" "$nnc" bench "$root/benchmarks/mlp4096.nn" --backend=cuda \
    --batch 4096 --repeats 10 --warmup 2 --fuse all --json >"$out/tiles_$name.json"
}
for r in $(seq 1 "$rounds"); do
  tiles "big_$r"
  tiles "big2_$r" NNC_CUDA_BIG_MIN_BLOCKS=2
  tiles "small_$r" NNC_CUDA_BIG_TILES_FROM=9223372036854775807
done

"$python" - "$out" "$rounds" <<'PY'
import json, os, statistics, sys
out, rounds = sys.argv[1], int(sys.argv[2])
nnc_epoch = statistics.median(float(l) for l in open(os.path.join(out, "nnc_epoch.times")))
torch_epoch = statistics.median(
    json.load(open(os.path.join(out, f"torch_epoch_{r}.json")))["median_s"]
    for r in range(1, rounds + 1))
bench = json.load(open(os.path.join(out, "nnc_mlp.json")))
step = {r["fuse"]: r["median_s"] for r in bench["results"] if r["scope"] == "step"}
tf = {p: json.load(open(os.path.join(out, f"torch_mlp_{p}.json")))["median_s"]
      for p in ("fp32", "tf32")}
print(f"\n{bench['device']}; medians")
print(f"mnist_mlp epoch, batch 64: nnc {nnc_epoch:.3f} s, PyTorch eager "
      f"{torch_epoch:.3f} s: nnc is {torch_epoch / nnc_epoch:.2f}x faster "
      f"(target 3x)")
nosplit = statistics.median(float(l) for l in open(os.path.join(out, "nnc_epoch_nosplit.times")))
print(f"  nnc without split-K (NNC_CUDA_SPLIT_K=0): {nosplit:.3f} s")
print(f"mlp4096 step, batch 4096: nnc fused {step['all'] * 1e3:.2f} ms, "
      f"unfused {step['none'] * 1e3:.2f} ms (unfused/fused "
      f"{step['none'] / step['all']:.2f}x)")
print(f"  PyTorch fp32 {tf['fp32'] * 1e3:.2f} ms: nnc/PyTorch "
      f"{step['all'] / tf['fp32']:.2f} (target at most 1.3)")
tf32 = json.load(open(os.path.join(out, "nnc_mlp_tf32.json")))
tf32_step = [r["median_s"] for r in tf32["results"] if r["scope"] == "step"][0]
print(f"  PyTorch TF32 {tf['tf32'] * 1e3:.2f} ms, nnc TF32 "
      f"{tf32_step * 1e3:.2f} ms: nnc/PyTorch {tf32_step / tf['tf32']:.2f} "
      f"(target at most 1.5)")
def tiles(name):
    return statistics.median(
        [r["median_s"] for r in json.load(open(os.path.join(out, f"tiles_{name}_{i}.json")))["results"]
         if r["scope"] == "step"][0] for i in range(1, rounds + 1))
big, big2, small = tiles("big"), tiles("big2"), tiles("small")
print(f"mlp4096 fused fp32 step by GEMM tiles: 128 x 128 {big * 1e3:.2f} ms, "
      f"128 x 128 for 2 blocks/SM {big2 * 1e3:.2f} ms, 64 x 64 only "
      f"{small * 1e3:.2f} ms (small/big {small / big:.2f}x)")
PY
