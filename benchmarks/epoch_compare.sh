#!/usr/bin/env bash
# epoch_compare.sh - seconds per mnist_mlp epoch: nnc vs OpenBLAS vs PyTorch.
#
# Runs R rounds, interleaved (epoch times on a shared machine drift by up to
# 2x between runs, so the contenders take turns), of one epoch each of:
#   nnc       NNC train examples/mnist_mlp.nn --epochs 1 --validation 0
#             --backend=cpu (the epoch line's samples/s; compile time is not
#             in it)
#   openblas  benchmarks/openblas_trainer (1 epoch; OPENBLAS_NUM_THREADS as
#             in the environment, else OpenBLAS's default)
#   pytorch   benchmarks/compare_pytorch.py at one setup (1 epoch), by
#             default its best here: 2 torch threads, OPENBLAS_NUM_THREADS=1
# then prints the median seconds per epoch of each, the ratios nnc/other,
# and the floor: the epoch's FLOPs over the machine's peak.
#
# Usage: benchmarks/epoch_compare.sh [--nnc PATH] [--trainer PATH]
#          [--rounds R] [--peak GFLOPS] [--torch-setup T:B] [--no-torch]
# Defaults: build/nnc, build/benchmarks/openblas_trainer, 3 rounds, peak
# $NNC_PEAK_GFLOPS or 190 (2 Zen 3 cores x 32 FLOP/cycle), setup 2:1.
# A contender whose program is missing is left out with a note. Exit 1 on
# bad flags, or when nnc itself cannot run.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
nnc=$root/build/nnc
trainer=$root/build/benchmarks/openblas_trainer
rounds=3
peak=${NNC_PEAK_GFLOPS:-190}
torch_setup=2:1
torch=1

usage() {
  sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'
}
die() {
  echo "epoch_compare.sh: error: $*" >&2
  exit 1
}
need_value() {
  [ $# -ge 2 ] || die "'$1' needs a value"
}

while [ $# -gt 0 ]; do
  case $1 in
  --nnc) need_value "$@"; nnc=$2; shift 2 ;;
  --trainer) need_value "$@"; trainer=$2; shift 2 ;;
  --rounds) need_value "$@"; rounds=$2; shift 2 ;;
  --peak) need_value "$@"; peak=$2; shift 2 ;;
  --torch-setup) need_value "$@"; torch_setup=$2; shift 2 ;;
  --no-torch) torch=0; shift ;;
  -h | --help) usage; exit 0 ;;
  *) die "unknown flag '$1' (see --help)" ;;
  esac
done
[[ $rounds =~ ^[1-9][0-9]*$ ]] || die "--rounds needs a positive integer, not '$rounds'"
[[ $peak =~ ^[0-9]+([.][0-9]+)?$ ]] && [ "$peak" != 0 ] ||
  die "--peak needs GFLOP/s (a positive number), not '$peak'"
[[ $torch_setup =~ ^[1-9][0-9]*:([1-9][0-9]*|unset)$ ]] ||
  die "--torch-setup needs TORCH_THREADS:OPENBLAS (e.g. 2:1, 2:unset), not '$torch_setup'"
[ -x "$nnc" ] || die "$nnc: no nnc binary (build it, or pass --nnc PATH)"

model=$root/examples/mnist_mlp.nn
samples=60000
# FLOPs of one epoch, 2 per multiply-add: forward, weight gradients, and
# input gradients of every layer but the first, over 60,000 samples.
gflop=$(awk -v n=$samples 'BEGIN {
  fwd = 784*128 + 128*64 + 64*10; back_in = 128*64 + 64*10
  printf "%.3f", 2 * n * (2*fwd + back_in) / 1e9 }')

contenders=(nnc)
if [ -x "$trainer" ]; then
  contenders+=(openblas)
else
  echo "note: $trainer not built (needs libopenblas-dev): left out"
fi
if [ $torch = 1 ]; then
  if /usr/bin/python3 -c 'import torch' 2>/dev/null; then
    contenders+=(pytorch)
  else
    echo "note: PyTorch (python3-torch) not installed: left out"
  fi
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Each prints the epoch's seconds on stdout; the full log goes to $tmp.
run_nnc() {
  local log=$tmp/nnc.log sps
  "$nnc" train "$model" --epochs 1 --validation 0 --backend=cpu \
    >"$log" 2>&1 || { cat "$log" >&2; die "nnc train failed"; }
  # "epoch 1/1  loss 0.5123  acc 81.20%  2.8s  21428 samples/s": seconds
  # from samples/s (the seconds field has one decimal only).
  sps=$(sed -n 's/^epoch 1\/1 .* \([0-9][0-9]*\) samples\/s.*/\1/p' "$log" | tail -1)
  [ -n "$sps" ] || { cat "$log" >&2; die "no epoch line in nnc's output"; }
  awk -v n=$samples -v s="$sps" 'BEGIN { printf "%.4f", n / s }'
}
run_openblas() {
  local log=$tmp/openblas.log s
  "$trainer" --epochs 1 >"$log" 2>&1 || { cat "$log" >&2; die "openblas_trainer failed"; }
  s=$(sed -n 's/^epoch 1: \([0-9.]*\) s.*/\1/p' "$log")
  [ -n "$s" ] || { cat "$log" >&2; die "no epoch line in openblas_trainer's output"; }
  echo "$s"
}
run_pytorch() {
  local log=$tmp/pytorch.log s
  /usr/bin/python3 "$root/benchmarks/compare_pytorch.py" --epochs 1 \
    --repeats 1 --setups "$torch_setup" >"$log" 2>&1 ||
    { cat "$log" >&2; die "compare_pytorch.py failed"; }
  s=$(sed -n 's/^best: .*median \([0-9.]*\) s\/epoch.*/\1/p' "$log")
  [ -n "$s" ] || { cat "$log" >&2; die "no result line in compare_pytorch.py's output"; }
  echo "$s"
}

echo "mnist_mlp, batch 64, $samples samples per epoch; $rounds round(s), interleaved"
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg) ($(nproc) cores)"
for r in $(seq 1 "$rounds"); do
  line="round $r/$rounds:"
  for c in "${contenders[@]}"; do
    s=$("run_$c")
    echo "$s" >>"$tmp/$c.times"
    line+="  $c $s s"
  done
  echo "$line"
done
echo "load after:  $(cut -d' ' -f1-3 /proc/loadavg)"
grep -m1 '^openblas_trainer:' "$tmp/openblas.log" 2>/dev/null | sed 's/^/note: /' || true

median() {
  sort -g "$1" | awk '{ v[NR] = $1 } END {
    if (NR % 2) printf "%.3f", v[(NR + 1) / 2]
    else printf "%.3f", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
declare -A med label
label[nnc]="nnc (cpu backend, fused)"
label[openblas]="OpenBLAS trainer (C++)"
label[pytorch]="PyTorch eager ($torch_setup)"
floor=$(awk -v g="$gflop" -v p="$peak" 'BEGIN { printf "%.3f", g / p }')

echo
echo "median seconds per epoch ($gflop GFLOP per epoch; peak $peak GFLOP/s):"
for c in "${contenders[@]}"; do
  med[$c]=$(median "$tmp/$c.times")
  awk -v name="${label[$c]}" -v s="${med[$c]}" -v g="$gflop" -v p="$peak" \
    'BEGIN { printf "  %-30s %7.3f s  %6.1f GFLOP/s  %5.1f%% of peak\n",
             name, s, g / s, 100 * g / s / p }'
done
printf "  %-30s %7.3f s  (%s GFLOP / %s GFLOP/s)\n" "floor" "$floor" "$gflop" "$peak"
echo "ratios (nnc / other; below 1: nnc is faster):"
for c in "${contenders[@]}"; do
  [ "$c" = nnc ] && continue
  awk -v a="${med[nnc]}" -v b="${med[$c]}" -v name="$c" \
    'BEGIN { slower = (a > b); x = slower ? a / b : b / a
             printf "  nnc/%-9s %.2f  (nnc is %.2fx %s)\n", name, a / b, x,
                    slower ? "slower" : "faster" }'
done
awk -v a="${med[nnc]}" -v f="$floor" \
  'BEGIN { printf "  nnc/floor     %.2f\n", a / f }'
