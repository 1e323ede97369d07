#!/usr/bin/env bash
# batch_norm's evaluation form against PyTorch: train a small CNN with batch
# norm (its running statistics move), then `nnc eval` and `nnc predict` on
# the saved weights must match nn.BatchNorm2d in eval mode (running
# statistics), computed by PyTorch from the same safetensors, on the
# interpreter and the CPU backend (both run the evaluation graph with the
# batch norm folded into the convolution: passes/FuseConv.cpp). Skips (77)
# when torch is missing.
source "$(dirname "$0")/lib.bash"
PY=${PYTHON:-/usr/bin/python3}
if ! "$PY" -c "import torch" 2>/dev/null; then
  echo "SKIP: PyTorch is not installed (Debian python3-torch)"
  exit 77
fi
M=$NNC_SOURCE_DIR/tests/e2e/batch_norm_eval.nn
D=$NNC_SOURCE_DIR/examples/data/conv_tiny.csv
for backend in interp cpu; do
  expect_ok "$NNC" train "$M" --backend=$backend --quiet \
    --save "$TMP/$backend.safetensors" || continue
  expect_ok "$NNC" eval "$M" --backend=$backend --data "$D" \
    --weights "$TMP/$backend.safetensors" || continue
  echo "$OUT" >"$TMP/eval.txt"
  expect_ok "$NNC" predict "$M" --backend=$backend --data "$D" \
    --weights "$TMP/$backend.safetensors" || continue
  echo "$OUT" >"$TMP/predict.txt"
  echo "== $backend"
  OMP_NUM_THREADS=2 "$PY" "$NNC_SOURCE_DIR/tests/e2e/torch_batch_norm_eval.py" \
    "$TMP/$backend.safetensors" "$D" "$TMP/eval.txt" "$TMP/predict.txt" ||
    fail "nnc ($backend) eval/predict and PyTorch's eval mode disagree"
done
finish
