#!/usr/bin/env bash
# nnc's optimizers against torch.optim: Adam, Adam with weight_decay, AdamW
# with and without weight decay, SGD with nesterov and weight_decay, each
# with the lecture's l2 (and Adam also without): the same initial weights
# (safetensors), the same batches (--no-shuffle), 5 steps on Fashion-MNIST,
# on the interpreter (against PyTorch in float64: both compute in double)
# and the CPU backend fused and unfused (against PyTorch in float32). The
# weights must agree with PyTorch's to 1e-4 relative; where float32 Adam
# runs differ by more (a weight crossing zero: how much depends on the
# host's BLAS), the CPU's weights must be as close to float64 PyTorch as
# PyTorch's own float32 weights are (torch_optim_oracle.py). Skips when
# torch or the data is missing.
source "$(dirname "$0")/lib.bash"
PY=${PYTHON:-/usr/bin/python3}
if ! "$PY" -c "import torch" 2>/dev/null; then
  echo "SKIP: PyTorch is not installed (Debian python3-torch)"
  exit 0
fi
if [ ! -e "$FMNIST/train-images-idx3-ubyte.gz" ]; then
  echo "SKIP: Fashion-MNIST is not installed (Debian dataset-fashion-mnist)"
  exit 0
fi
M=$EX/mnist_mlp.nn
STEPS=5
base=(--no-shuffle --validation 0 --batch 16 --seed 7 --quiet)
expect_ok "$NNC" train "$M" "${base[@]}" --steps 0 --save "$TMP/init.safetensors"

# The same network whose file names SGD with nesterov and weight decay.
sed 's/optimizer sgd(.*)/optimizer sgd(lr = 0.05, momentum = 0.9, nesterov = true, weight_decay = 5e-4)/' \
  "$M" >"$TMP/nesterov.nn"
grep -q 'nesterov = true' "$TMP/nesterov.nn" || fail "no nesterov model"

# check L2 MODEL NNC-FLAGS -- TORCH-ARGS: trains on each backend, compares
# each with PyTorch.
check() {
  local l2=$1 model=$2 flags=() torch=()
  shift 2
  while [ "$1" != "--" ]; do flags+=("$1"); shift; done
  shift
  torch=("$@")
  local b
  for b in "interp" "cpu --fuse all" "cpu --fuse none"; do
    local precision=()
    [ "$b" = interp ] && precision=(--double)
    # shellcheck disable=SC2086
    expect_ok "$NNC" train "$model" "${base[@]}" --l2 "$l2" "${flags[@]}" \
      --steps $STEPS --init "$TMP/init.safetensors" --backend $b \
      --save "$TMP/after.safetensors" || continue
    OMP_NUM_THREADS=2 "$PY" "$NNC_SOURCE_DIR/tests/e2e/torch_optim_oracle.py" \
      "${precision[@]}" "$TMP/init.safetensors" "$TMP/after.safetensors" "$FMNIST/train" \
      $STEPS 16 "$l2" "${torch[@]}" ||
      fail "nnc ($b, ${flags[*]}, l2 $l2) and PyTorch disagree"
  done
}

check 0 "$M" --optimizer adam --lr 0.001 -- adam lr=0.001
check 1e-4 "$M" --optimizer adam --lr 0.001 --weight-decay 0.05 -- \
  adam lr=0.001 weight_decay=0.05
check 1e-4 "$M" --optimizer adamw --lr 0.001 -- adamw lr=0.001 weight_decay=0.01
check 1e-4 "$M" --optimizer adamw --lr 0.001 --weight-decay 0 -- \
  adamw lr=0.001 weight_decay=0
check 1e-4 "$TMP/nesterov.nn" -- \
  sgd lr=0.05 momentum=0.9 nesterov=1 weight_decay=5e-4
finish
