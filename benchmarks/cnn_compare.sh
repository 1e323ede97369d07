#!/usr/bin/env bash
# cnn_compare.sh - seconds per examples/fashion_cnn.nn epoch: nnc against
# PyTorch.
#
# Runs R rounds, interleaved (the machine is shared: the contenders take
# turns), of:
#   nnc-fused      NNC train examples/fashion_cnn.nn --validation 0
#                  --backend=cpu --threads T (the epoch line's samples/s;
#                  compile time is not in it)
#   nnc-unfused    the same with --fuse none
#   torch-compile  cnn_compare.py --variants compile (Inductor), PyTorch 2.x
#   torch-eager    cnn_compare.py --variants eager (oneDNN convolutions)
#   torch-system   the same under /usr/bin/python3 (Debian's torch 1.13)
# each with T threads, the model's own batch size and recipe. PyTorch runs
# 20 warm-up steps first (torch.compile compiles there). With --samples N
# every contender trains on the first N training samples only (nnc: an IDX
# copy of them; PyTorch: the first N/batch steps of its shuffled epoch) and
# the epoch's time is extrapolated to the 60,000 samples: on a loaded
# 2-core machine a whole CNN epoch takes minutes. Prints each contender's
# median seconds per epoch, GFLOP/s, % of the machine's peak and the ratio
# of nnc (fused) to each.
#
# Usage: benchmarks/cnn_compare.sh [--nnc PATH] [--python PY] [--rounds R]
#          [--threads T] [--samples N] [--peak GFLOPS] [--contenders LIST]
#          [--model FILE] [--out DIR]
# Defaults: build/nnc, PY the Python of benchmarks/make_venv.sh's
# environment ($NNC_BENCH_VENV or ~/.cache/nnc/bench-venv) if it is there,
# else /usr/bin/python3; 1 round, 2 threads, the whole epoch, every
# contender (LIST: comma-separated names above), examples/fashion_cnn.nn.
# The peak is --peak, else $NNC_PEAK_GFLOPS, else the one `nnc bench`
# reports for T threads. A contender whose program or Python package is
# missing is left out with a note; logs stay in --out DIR (default: a
# temporary folder, removed). Set OMP_WAIT_POLICY=PASSIVE on a busy machine
# (see epoch_compare.sh).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
me=cnn_compare.sh
# shellcheck source=benchmarks/compare_lib.sh
. "$root/benchmarks/compare_lib.sh"
nnc=$root/build/nnc
venv=${NNC_BENCH_VENV:-$HOME/.cache/nnc/bench-venv}
python=
rounds=1
threads=2
samples=60000
peak=${NNC_PEAK_GFLOPS:-}
model=$root/examples/fashion_cnn.nn
all="nnc-fused,nnc-unfused,torch-compile,torch-eager,torch-system"
wanted=$all
out=
data=/usr/share/datasets/fashion-mnist

while [ $# -gt 0 ]; do
  case $1 in
  --nnc) need_value "$@"; nnc=$2; shift 2 ;;
  --python) need_value "$@"; python=$2; shift 2 ;;
  --rounds) need_value "$@"; rounds=$2; shift 2 ;;
  --threads) need_value "$@"; threads=$2; shift 2 ;;
  --samples) need_value "$@"; samples=$2; shift 2 ;;
  --peak) need_value "$@"; peak=$2; shift 2 ;;
  --contenders) need_value "$@"; wanted=$2; shift 2 ;;
  --model) need_value "$@"; model=$2; shift 2 ;;
  --out) need_value "$@"; out=$2; shift 2 ;;
  -h | --help) usage; exit 0 ;;
  *) die "unknown flag '$1' (see --help)" ;;
  esac
done
need_positive --rounds "$rounds"
need_positive --threads "$threads"
[[ $samples =~ ^[1-9][0-9]*$ ]] && [ "$samples" -le 60000 ] ||
  die "--samples needs a count from 1 to 60000, not '$samples'"
need_known "$all" "$wanted"
[ -x "$nnc" ] || die "$nnc: no nnc binary (build it, or pass --nnc PATH)"
[ -e "$model" ] || die "$model: no such file"
[ -n "$python" ] || python=$(bench_python "$venv")
batch=$(sed -n 's/^[^#]*\bbatch[[:space:]]\+\([0-9]\+\).*/\1/p' "$model" | head -1)
[ -n "$batch" ] || die "$model: no batch size in its train block"
steps=$(((samples + batch - 1) / batch))

# FLOPs of one epoch, 2 per multiply-add, per sample: the forward pass, the
# weight gradients (as many), the input gradients of every layer but the
# first (conv1's input is the data); batch norm, pooling and activations
# left out (under 1%).
gflop=$(awk 'BEGIN {
  c1 = 32 * 28 * 28 * 1 * 9; c2 = 64 * 14 * 14 * 32 * 9
  d1 = 3136 * 128; d2 = 128 * 10
  printf "%.1f", 2 * 60000 * (2 * (c1 + c2 + d1 + d2) + c2 + d1 + d2) / 1e9 }')

has_python() { "$1" -c "$2" >/dev/null 2>&1; }
contenders=()
for c in ${wanted//,/ }; do
  case $c in
  torch-compile) has_python "$python" 'import torch; assert hasattr(torch, "compile")' ||
    { echo "note: $python has no torch 2.x (benchmarks/make_venv.sh): $c left out"; continue; } ;;
  torch-eager) has_python "$python" 'import torch' ||
    { echo "note: $python has no torch: $c left out"; continue; } ;;
  torch-system) has_python /usr/bin/python3 'import torch' ||
    { echo "note: /usr/bin/python3 has no torch (python3-torch): $c left out"; continue; } ;;
  esac
  contenders+=("$c")
done

open_log_dir "$out"

if [ -z "$peak" ]; then
  peak=$(nnc_peak "$nnc" "$root/examples/mnist_mlp.nn" "$tmp/peak.json" \
    --batch 64 --repeats 1 --warmup 0 --threads "$threads")
fi

# nnc's training data: all of it, or an IDX copy of the first --samples.
train=$data/train
if [ "$samples" != 60000 ]; then
  /usr/bin/python3 - "$data/train" "$tmp/part-train" "$samples" <<'EOF'
import gzip, struct, sys
src, dst, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
for kind, per in (("images-idx3", 784), ("labels-idx1", 1)):
    blob = gzip.open("%s-%s-ubyte.gz" % (src, kind)).read()
    ndim = blob[3]
    head = blob[:4] + struct.pack(">I", n) + blob[8:4 + 4 * ndim]
    body = blob[4 + 4 * ndim:4 + 4 * ndim + n * per]
    with gzip.open("%s-%s-ubyte.gz" % (dst, kind), "wb") as f:
        f.write(head + body)
EOF
  train=$tmp/part-train
fi

nnc_epoch() { # LOG [FLAGS...]: seconds per 60,000-sample epoch
  local log=$1 sps
  shift
  "$nnc" train "$model" --epochs 1 --validation 0 --backend=cpu --data "$train" \
    --threads "$threads" "$@" >"$log" 2>&1 || fail_run "$log" "nnc train failed"
  sps=$(sed -n 's/^epoch 1\/1 .* \([0-9][0-9]*\) samples\/s.*/\1/p' "$log" | tail -1)
  [ -n "$sps" ] || fail_run "$log" "no epoch line in nnc's output"
  awk -v s="$sps" 'BEGIN { printf "%.3f", 60000 / s }'
}
run_nnc-fused() { nnc_epoch "$1"; }
run_nnc-unfused() { nnc_epoch "$1" --fuse none; }
torch_epoch() { # LOG VARIANT [PYTHON]
  local s flags=()
  [ "$samples" != 60000 ] && flags=(--steps "$steps")
  "${3:-$python}" "$root/benchmarks/cnn_compare.py" --model "$model" \
    --variants "$2" --threads "$threads" "${flags[@]}" >"$1" 2>&1 ||
    fail_run "$1" "cnn_compare.py failed"
  s=$(sed -n "s/^result: $2 median \([0-9.]*\) s\/epoch.*/\1/p" "$1")
  [ -n "$s" ] || fail_run "$1" "no result line in cnn_compare.py's output"
  echo "$s"
}
run_torch-compile() { torch_epoch "$1" compile; }
run_torch-eager() { torch_epoch "$1" eager; }
run_torch-system() { torch_epoch "$1" eager /usr/bin/python3; }

echo "fashion_cnn ($model), batch $batch, $threads threads, $rounds round(s)," \
  "interleaved; $([ "$samples" = 60000 ] && echo "whole epochs" ||
  echo "epochs extrapolated from the first $samples samples")"
echo "nnc: $nnc; python: $python; host: $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)"
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg) ($(nproc) cores);" \
  "OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-unset}"
for r in $(seq 1 "$rounds"); do
  line="round $r/$rounds:"
  for c in "${contenders[@]}"; do
    s=$("run_$c" "$tmp/$c.r$r.log")
    echo "$s" >>"$tmp/$c.times"
    line+="  $c $s"
  done
  echo "$line"
done
echo "load after:  $(cut -d' ' -f1-3 /proc/loadavg)"
for c in torch-eager torch-compile torch-system; do
  [ -e "$tmp/$c.r1.log" ] && grep -m1 '^PyTorch' "$tmp/$c.r1.log" | sed "s/^/  $c: /"
done

echo
echo "median s/epoch ($gflop GFLOP per epoch; peak $peak GFLOP/s)"
declare -A med=()
for c in "${contenders[@]}"; do
  med[$c]=$(median "$tmp/$c.times")
  awk -v name="$c" -v s="${med[$c]}" -v g="$gflop" -v p="$peak" \
    'BEGIN { printf "  %-14s %8.2f s  %6.1f GFLOP/s  %5.1f%% of peak\n",
             name, s, g / s, 100 * g / s / p }'
done
if [ -n "${med[nnc-fused]:-}" ]; then
  echo "  speed of nnc fused over each (above 1: nnc is faster)"
  for c in "${contenders[@]}"; do
    [ "$c" = nnc-fused ] && continue
    awk -v a="${med[nnc-fused]}" -v b="${med[$c]}" -v name="$c" \
      'BEGIN { printf "    %-14s %5.2fx\n", name, b / a }'
  done
fi
