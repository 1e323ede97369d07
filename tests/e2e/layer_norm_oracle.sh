#!/usr/bin/env bash
# layer_norm against PyTorch's nn.LayerNorm: the same initial weights
# (nnc's safetensors, loaded by load_state_dict), the same batches
# (--no-shuffle), ten SGD steps with momentum and L2 on Fashion-MNIST, on the
# interpreter, the CPU backend fused and the CPU backend unfused: every
# weight must agree to 1e-4 relative. Skips (77) when torch or the data is
# missing.
source "$(dirname "$0")/lib.bash"
PY=${PYTHON:-/usr/bin/python3}
if ! "$PY" -c "import torch" 2>/dev/null; then
  echo "SKIP: PyTorch is not installed (Debian python3-torch)"
  exit 77
fi
if [ ! -e "$FMNIST/train-images-idx3-ubyte.gz" ]; then
  echo "SKIP: Fashion-MNIST is not installed (Debian dataset-fashion-mnist)"
  exit 77
fi
M=$NNC_SOURCE_DIR/tests/e2e/layer_norm_mlp.nn
common=(--no-shuffle --validation 0 --batch 16 --lr 0.1 --momentum 0.9 --l2 1e-4 --seed 11 --quiet)
expect_ok "$NNC" train "$M" "${common[@]}" --steps 0 --save "$TMP/init.safetensors"
for run in "interp:--backend=interp" "cpu-fused:--backend=cpu" \
           "cpu-unfused:--backend=cpu --fuse=none"; do
  name=${run%%:*}
  read -r -a flags <<<"${run#*:}"
  expect_ok "$NNC" train "$M" "${common[@]}" "${flags[@]}" --steps 10 \
    --init "$TMP/init.safetensors" --save "$TMP/$name.safetensors" || continue
  echo "== $name"
  OMP_NUM_THREADS=2 "$PY" "$NNC_SOURCE_DIR/tests/e2e/torch_layer_norm.py" \
    "$TMP/init.safetensors" "$TMP/$name.safetensors" "$FMNIST/train" 10 16 0.1 0.9 1e-4 ||
    fail "nnc ($name) and PyTorch disagree after 10 SGD steps with layer_norm"
done
finish
