#!/usr/bin/env bash
# nnc against PyTorch: same initial weights (safetensors), same batches
# (--no-shuffle), five SGD steps with momentum and L2 on Fashion-MNIST; the
# weights must agree to 1e-4 relative. Skips when torch or the data is missing.
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
common=(--no-shuffle --validation 0 --batch 16 --lr 0.05 --momentum 0.9 --l2 1e-4 --seed 7 --quiet)
expect_ok "$NNC" train "$M" "${common[@]}" --steps 0 --save "$TMP/init.safetensors"
expect_ok "$NNC" train "$M" "${common[@]}" --steps 5 --init "$TMP/init.safetensors" \
  --save "$TMP/after.safetensors"
OMP_NUM_THREADS=2 "$PY" "$NNC_SOURCE_DIR/tests/e2e/torch_oracle.py" \
  "$TMP/init.safetensors" "$TMP/after.safetensors" "$FMNIST/train" 5 16 0.05 0.9 1e-4 ||
  fail "nnc and PyTorch disagree after 5 SGD steps"
finish
