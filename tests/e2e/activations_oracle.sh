#!/usr/bin/env bash
# The activations of issue 14 against PyTorch: for gelu, silu, softplus and
# leaky_relu, a model that applies the activation in a dense layer (fused
# into its epilogue and its gradients) and as a function (a fused.elementwise
# body; leaky_relu with slope 0.2 there, the default 0.01 in the dense
# layer) trains 10 SGD steps from one safetensors init on the same batches
# (--no-shuffle) on the interpreter, the CPU backend fused and the CPU
# backend unfused; PyTorch (nn.GELU, nn.SiLU, nn.Softplus, nn.LeakyReLU, in
# float64) must end with the same weights to 1e-4 relative
# (tests/e2e/torch_activations.py). Skips when torch or the data is missing.
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
steps=10 batch=16 lr=0.05 momentum=0.9 slope=0.2
common=(--no-shuffle --validation 0 --batch $batch --lr $lr --momentum $momentum --l2 0 --seed 3 --quiet)
for act in gelu silu softplus leaky_relu; do
  call="$act(fc2 * 0.5)"
  [ "$act" = leaky_relu ] && call="leaky_relu(fc2 * 0.5, $slope)"
  M=$TMP/$act.nn
  cat >"$M" <<NN
model act_$act
input x : f32[784]
label y : class(10)
fc1 = dense(x, 32, $act)
fc2 = dense(fc1, 16)
h   = $call
out = dense(h, 10)
loss cross_entropy(softmax(out), y)
train {
  data idx("$FMNIST/train")
  optimizer sgd(lr = $lr, momentum = $momentum)
  batch $batch  epochs 1
}
NN
  expect_ok "$NNC" train "$M" "${common[@]}" --backend interp --steps 0 \
    --save "$TMP/$act.init.safetensors" || continue
  for mode in "interp all" "cpu all" "cpu none"; do
    read -r backend fuse <<<"$mode"
    after=$TMP/$act.$backend.$fuse.safetensors
    expect_ok "$NNC" train "$M" "${common[@]}" --backend "$backend" --fuse "$fuse" \
      --steps $steps --init "$TMP/$act.init.safetensors" --save "$after" || continue
    echo "== $act on $mode"
    OMP_NUM_THREADS=2 "$PY" "$NNC_SOURCE_DIR/tests/e2e/torch_activations.py" \
      "$act" $slope "$TMP/$act.init.safetensors" "$after" "$FMNIST/train" \
      $steps $batch $lr $momentum ||
      fail "nnc ($act, $mode) and PyTorch disagree after $steps SGD steps"
  done
done
finish
