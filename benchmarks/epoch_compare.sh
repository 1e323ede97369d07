#!/usr/bin/env bash
# epoch_compare.sh - seconds per mnist_mlp epoch: nnc against its peers.
#
# Runs R rounds, interleaved (epoch times on a shared machine drift by up to
# 2x between runs, so the contenders take turns), at each batch size, of:
#   nnc-fused      NNC train examples/mnist_mlp.nn --validation 0
#                  --backend=cpu --batch B --threads T (the epoch line's
#                  samples/s; compile time is not in it)
#   nnc-unfused    the same with --fuse none
#   openblas       benchmarks/openblas_trainer --batch B --threads T (C++,
#                  every product one cblas_sgemm)
#   jax-scan       compare_jax.py --mode scan: the epoch as one lax.scan
#   jax-step       compare_jax.py --mode step: the jitted step per batch
#   torch-compile  compare_pytorch.py --variants compile (Inductor)
#   torch-eager    compare_pytorch.py --variants eager
#   torch-system   the same under /usr/bin/python3 (Debian's torch 1.13);
#                  only when asked for by --contenders
# Each run trains one warm-up epoch and then one timed epoch (so compiling,
# first touches and torch.compile's tracing stay out of the time), on all
# 60,000 rows, the last partial batch included; T threads each (PyTorch:
# T torch threads, OPENBLAS_NUM_THREADS=1). Then per batch size it prints
# each contender's median seconds per epoch, GFLOP/s, % of the machine's
# peak, the ratio of nnc (fused) to each, and the FLOP floor (the epoch's
# FLOPs over the peak).
#
# Usage: benchmarks/epoch_compare.sh [--nnc PATH] [--trainer PATH]
#          [--python PY] [--rounds R] [--batch 64,256] [--threads T]
#          [--peak GFLOPS] [--measure-peak] [--contenders LIST] [--out DIR]
# Defaults: build/nnc, build/benchmarks/openblas_trainer, PY the Python of
# benchmarks/make_venv.sh's environment ($NNC_BENCH_VENV or
# ~/.cache/nnc/bench-venv) if it is there, else /usr/bin/python3; 3 rounds,
# batches 64,256, 2 threads, every contender (LIST: comma-separated names
# above). The peak is --peak, else $NNC_PEAK_GFLOPS, else the one NNC bench
# reports for T threads (its cached `--measure-peak`; --measure-peak
# measures it again first). A contender whose program or Python package is
# missing is left out with a note; each run's output stays in --out DIR
# (default: a temporary folder, removed). Exit 1 on bad flags, or when a
# contender that can run fails. The environment passes on to every
# contender: on a busy machine, OMP_WAIT_POLICY=PASSIVE keeps PyTorch's
# OpenMP threads from spinning (measured at load 14 on 2 cores: a batch-256
# eager step 220 ms with 2 spinning threads, 19 ms passive, 10 ms on 1).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
me=epoch_compare.sh
# shellcheck source=benchmarks/compare_lib.sh
. "$root/benchmarks/compare_lib.sh"
nnc=$root/build/nnc
trainer=$root/build/benchmarks/openblas_trainer
venv=${NNC_BENCH_VENV:-$HOME/.cache/nnc/bench-venv}
python=
rounds=3
batches=64,256
threads=2
peak=${NNC_PEAK_GFLOPS:-}
measure_peak=0
all="nnc-fused,nnc-unfused,openblas,jax-scan,jax-step,torch-compile,torch-eager"
wanted=$all
all+=",torch-system"
out=


while [ $# -gt 0 ]; do
  case $1 in
  --nnc) need_value "$@"; nnc=$2; shift 2 ;;
  --trainer) need_value "$@"; trainer=$2; shift 2 ;;
  --python) need_value "$@"; python=$2; shift 2 ;;
  --rounds) need_value "$@"; rounds=$2; shift 2 ;;
  --batch) need_value "$@"; batches=$2; shift 2 ;;
  --threads) need_value "$@"; threads=$2; shift 2 ;;
  --peak) need_value "$@"; peak=$2; shift 2 ;;
  --measure-peak) measure_peak=1; shift ;;
  --contenders) need_value "$@"; wanted=$2; shift 2 ;;
  --out) need_value "$@"; out=$2; shift 2 ;;
  -h | --help) usage; exit 0 ;;
  *) die "unknown flag '$1' (see --help)" ;;
  esac
done
need_positive --rounds "$rounds"
need_positive --threads "$threads"
[[ $batches =~ ^[1-9][0-9]*(,[1-9][0-9]*)*$ ]] ||
  die "--batch needs batch sizes separated by commas (e.g. 64,256), not '$batches'"
[ -z "$peak" ] || { [[ $peak =~ ^[0-9]+([.][0-9]+)?$ ]] && [ "$peak" != 0 ]; } ||
  die "--peak needs GFLOP/s (a positive number), not '$peak'"
need_known "$all" "$wanted"
[ -x "$nnc" ] || die "$nnc: no nnc binary (build it, or pass --nnc PATH)"
[ -n "$python" ] || python=$(bench_python "$venv")
command -v "$python" >/dev/null || die "$python: no such Python"

model=$root/examples/mnist_mlp.nn
samples=60000
# FLOPs of one epoch, 2 per multiply-add: forward, weight gradients, and
# input gradients of every layer but the first, per sample, times the
# 60,000 samples: the same at every batch size (27.264 GFLOP).
gflop=$(awk -v n=$samples 'BEGIN {
  fwd = 784*128 + 128*64 + 64*10; back_in = 128*64 + 64*10
  printf "%.3f", 2 * n * (2*fwd + back_in) / 1e9 }')

has_python() { "$python" -c "$1" >/dev/null 2>&1; }
contenders=()
for c in ${wanted//,/ }; do
  case $c in
  openblas) [ -x "$trainer" ] ||
    { echo "note: $trainer not built (needs libopenblas-dev): openblas left out"; continue; } ;;
  jax-*) has_python 'import jax' ||
    { echo "note: $python has no jax (benchmarks/make_venv.sh): $c left out"; continue; } ;;
  torch-compile) has_python 'import torch; assert hasattr(torch, "compile")' ||
    { echo "note: $python has no torch 2.x (benchmarks/make_venv.sh): $c left out"; continue; } ;;
  torch-eager) has_python 'import torch' ||
    { echo "note: $python has no torch: $c left out"; continue; } ;;
  torch-system) /usr/bin/python3 -c 'import torch' >/dev/null 2>&1 ||
    { echo "note: /usr/bin/python3 has no torch (python3-torch): $c left out"; continue; } ;;
  esac
  contenders+=("$c")
done

open_log_dir "$out"

if [ -z "$peak" ]; then
  flags=(--batch 64 --fuse all --repeats 1 --warmup 0 --threads "$threads")
  [ $measure_peak = 1 ] && flags+=(--measure-peak)
  peak=$(nnc_peak "$nnc" "$model" "$tmp/peak.json" "${flags[@]}")
  peak_from="nnc bench, $threads threads"
else
  peak_from="given"
fi

# Each run_* prints the timed epoch's seconds on stdout; logs go to $tmp.
nnc_epoch() { # LOG BATCH [FLAGS...]
  local log=$1 b=$2 sps
  shift 2
  "$nnc" train "$model" --epochs 2 --validation 0 --backend=cpu --batch "$b" \
    --threads "$threads" "$@" >"$log" 2>&1 || fail_run "$log" "nnc train failed"
  # "epoch 2/2  loss 0.45  acc 85.24%  lr 0.05  2.6s  23072 samples/s":
  # seconds from samples/s (the seconds field has one decimal only).
  sps=$(sed -n 's/^epoch 2\/2 .* \([0-9][0-9]*\) samples\/s.*/\1/p' "$log" | tail -1)
  [ -n "$sps" ] || fail_run "$log" "no epoch line in nnc's output"
  awk -v n=$samples -v s="$sps" 'BEGIN { printf "%.4f", n / s }'
}
run_nnc-fused() { nnc_epoch "$1" "$2"; }
run_nnc-unfused() { nnc_epoch "$1" "$2" --fuse none; }
run_openblas() {
  local s
  "$trainer" --epochs 2 --batch "$2" --threads "$threads" >"$1" 2>&1 ||
    fail_run "$1" "openblas_trainer failed"
  s=$(sed -n 's/^epoch 2: \([0-9.]*\) s.*/\1/p' "$1")
  [ -n "$s" ] || fail_run "$1" "no epoch line in openblas_trainer's output"
  echo "$s"
}
jax_epoch() { # LOG BATCH MODE
  local s
  "$python" "$root/benchmarks/compare_jax.py" --mode "$3" --batch "$2" \
    --epochs 1 --threads "$threads" >"$1" 2>&1 || fail_run "$1" "compare_jax.py failed"
  s=$(sed -n "s/^result: $3 median \([0-9.]*\) s\/epoch.*/\1/p" "$1")
  [ -n "$s" ] || fail_run "$1" "no result line in compare_jax.py's output"
  echo "$s"
}
run_jax-scan() { jax_epoch "$1" "$2" scan; }
run_jax-step() { jax_epoch "$1" "$2" step; }
torch_epoch() { # LOG BATCH VARIANT [PYTHON]
  local s
  "${4:-$python}" "$root/benchmarks/compare_pytorch.py" --epochs 1 --warmup 1 \
    --repeats 1 --setups "$threads:1" --variants "$3" --batch "$2" >"$1" 2>&1 ||
    fail_run "$1" "compare_pytorch.py failed"
  s=$(sed -n "s/^best $3: .*median \([0-9.]*\) s\/epoch.*/\1/p" "$1")
  [ -n "$s" ] || fail_run "$1" "no result line in compare_pytorch.py's output"
  echo "$s"
}
run_torch-compile() { torch_epoch "$1" "$2" compile; }
run_torch-eager() { torch_epoch "$1" "$2" eager; }
run_torch-system() { torch_epoch "$1" "$2" eager /usr/bin/python3; }

echo "mnist_mlp, $samples samples per epoch, batches $batches, $threads threads;" \
  "$rounds round(s), interleaved; nnc: $nnc; python: $python"
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg) ($(nproc) cores);" \
  "OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-unset}"
for r in $(seq 1 "$rounds"); do
  for b in ${batches//,/ }; do
    line="round $r/$rounds, batch $b:"
    for c in "${contenders[@]}"; do
      s=$("run_$c" "$tmp/$c.b$b.r$r.log" "$b")
      echo "$s" >>"$tmp/$c.b$b.times"
      line+="  $c $s"
    done
    echo "$line" | fold -s -w 100 | sed '2,$s/^/    /'
  done
done
echo "load after:  $(cut -d' ' -f1-3 /proc/loadavg)"
version_line() { # PATTERN LOGS...: the first matching line of the first log
  local pattern=$1
  shift
  cat "$@" 2>/dev/null | grep -m1 "$pattern" | cut -c1-110 | sed 's/^/  /' || true
}
echo "versions:"
version_line '^openblas_trainer:' "$tmp"/openblas.*.r1.log
version_line '^jax .*devices' "$tmp"/jax-*.r1.log
version_line '^PyTorch' "$tmp"/torch-[ce]*.r1.log
version_line '^PyTorch' "$tmp"/torch-system.*.r1.log

declare -A label=(
  [nnc-fused]="nnc cpu backend, fused"
  [nnc-unfused]="nnc cpu backend, unfused"
  [openblas]="C++ trainer on OpenBLAS"
  [jax-scan]="JAX, epoch as one lax.scan"
  [jax-step]="JAX, jit step per batch"
  [torch-compile]="PyTorch torch.compile"
  [torch-eager]="PyTorch eager"
  [torch-system]="PyTorch eager, system Python")
floor=$(awk -v g="$gflop" -v p="$peak" 'BEGIN { printf "%.3f", g / p }')

for b in ${batches//,/ }; do
  echo
  echo "batch $b: median s/epoch over $rounds round(s) ($gflop GFLOP per epoch;" \
    "peak $peak GFLOP/s, $peak_from)"
  declare -A med=()
  for c in "${contenders[@]}"; do
    med[$c]=$(median "$tmp/$c.b$b.times")
    awk -v name="${label[$c]}" -v s="${med[$c]}" -v g="$gflop" -v p="$peak" \
      'BEGIN { printf "  %-28s %7.3f s  %6.1f GFLOP/s  %5.1f%% of peak\n",
               name, s, g / s, 100 * g / s / p }'
  done
  printf "  %-28s %7.3f s  (%s GFLOP / %s GFLOP/s)\n" "FLOP floor" "$floor" "$gflop" "$peak"
  base=nnc-fused
  [ -n "${med[$base]:-}" ] || continue
  echo "  ratios: speed of nnc fused over each (above 1: nnc is faster)"
  for c in "${contenders[@]}"; do
    [ "$c" = "$base" ] && continue
    awk -v a="${med[$base]}" -v b="${med[$c]}" -v name="$c" \
      'BEGIN { printf "    %-14s %5.2fx\n", name, b / a }'
  done
  awk -v a="${med[$base]}" -v f="$floor" \
    'BEGIN { printf "    %-14s %5.2fx the floor\n", "nnc fused at", a / f }'
done
