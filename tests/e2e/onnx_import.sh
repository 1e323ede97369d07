#!/usr/bin/env bash
# nnc import against PyTorch (issue 18): torch.onnx.export writes the
# lecture's MLP (784-128-relu-10 with a softmax at the output), the same MLP
# ending in logits, a small CNN (conv, relu, batch norm in eval mode,
# max pooling, flatten, linear) and an MLP with nn.LayerNorm (opset 17's
# LayerNormalization; torch_onnx_import.py); `nnc import` turns
# each into a .nn file and weights; `nnc predict` on the first 200
# Fashion-MNIST test images must give PyTorch's class and its probability
# to 1e-5 (a different class only where PyTorch's two best are within
# 1e-5). nnc's own export of mnist_mlp, fashion_cnn and layer_norm_onnx
# imports back to the same graph (`nnc emit --stage=opt`; checked when this
# nnc has export); the layer-norm model, trained 20 steps, also gives back
# its weights and predictions bit for bit. Then the CLI's errors: a
# truncated file, a missing one, no -o.
# Skips (77) when torch, its ONNX exporter or the data set is missing.
source "$(dirname "$0")/lib.bash"
PY=${PYTHON:-/usr/bin/python3}
COUNT=200
if ! "$PY" -c "import torch, torch.onnx" 2>/dev/null; then
  echo "SKIP: PyTorch is not installed (Debian python3-torch)"
  exit 77
fi
if [ ! -e "$FMNIST/t10k-images-idx3-ubyte.gz" ]; then
  echo "SKIP: Fashion-MNIST is not installed (dataset-fashion-mnist)"
  exit 77
fi
if ! "$NNC" import --help >/dev/null 2>&1 ||
   "$NNC" import /dev/null -o "$TMP/probe.nn" 2>&1 | grep -q "without ONNX"; then
  echo "SKIP: this nnc was built without ONNX support"
  exit 77
fi
OMP_NUM_THREADS=2 "$PY" "$NNC_SOURCE_DIR/tests/e2e/torch_onnx_import.py" \
  "$TMP" "$FMNIST/t10k-images-idx3-ubyte.gz" $COUNT
rc=$?
[ $rc -eq 77 ] && exit 77
[ $rc -ne 0 ] && { echo "FAIL: torch_onnx_import.py exited $rc"; exit 1; }

# compare NAME: nnc predict's CSV against PyTorch's probabilities.
compare() {
  "$PY" - "$TMP/$1.nnc.csv" "$TMP/$1.torch.csv" <<'PYEOF'
import sys
nnc = [l.split(",") for l in open(sys.argv[1]).read().split("\n")[1:] if l]
ref = [l.split(",") for l in open(sys.argv[2]).read().split("\n") if l]
assert len(nnc) == len(ref), "%d rows, PyTorch has %d" % (len(nnc), len(ref))
worst = 0.0
for a, b in zip(nnc, ref):
    c, p = int(a[1]), float(a[2])
    probs = [float(v) for v in b[3:]]
    err = abs(probs[c] - p)
    worst = max(worst, err)
    if err > 1e-5 or probs[c] < max(probs) - 1e-5:
        sys.exit("row %s: nnc says class %d with %.6f, PyTorch %s with %s"
                 % (a[0], c, p, b[1], b[2]))
print("%d rows agree, largest difference %.2g" % (len(nnc), worst))
PYEOF
}

for m in mlp mlp_logits cnn mlp_ln; do
  if [ "$m" = mlp_ln ] && [ ! -e "$TMP/$m.onnx" ]; then
    echo "note: mlp_ln: not exported by this torch (see above): not checked"
    continue
  fi
  if expect_ok "$NNC" import "$TMP/$m.onnx" -o "$TMP/$m.nn"; then
    if expect_ok "$NNC" predict "$TMP/$m.nn" --weights "$TMP/$m.safetensors" \
        --data "$FMNIST/t10k" --limit $COUNT; then
      printf '%s\n' "$OUT" >"$TMP/$m.nnc.csv"
      if out=$(compare $m 2>&1); then
        echo "ok: $m: $out"
      else
        fail "$m: $out"
      fi
    fi
  fi
done
grep -q "fc1 = dense(x, 128, relu)" "$TMP/mlp.nn" || fail "mlp.nn lacks fc1"
grep -q "loss cross_entropy(softmax(fc2), y)" "$TMP/mlp.nn" || fail "mlp.nn loss"
grep -q "batch_norm(c1)" "$TMP/cnn.nn" || fail "cnn.nn lacks batch_norm(c1)"
grep -q "c1 = conv2d(x, 8, kernel = 3, padding = 1, relu)" "$TMP/cnn.nn" ||
  fail "cnn.nn lacks c1"
if [ -e "$TMP/mlp_ln.onnx" ]; then
  grep -q "^ln1 = layer_norm(fc1, eps = 1e-06)$" "$TMP/mlp_ln.nn" ||
    fail "mlp_ln.nn lacks ln1 = layer_norm(fc1, eps = 1e-06)"
fi

# nnc's own export imports back to the same graph: `nnc emit --stage=opt`
# of the example and of its import agree (the import takes the train block
# of the source nnc export keeps in the metadata), source locations and
# initializer attributes (the weights come from the file) left out.
opt_graph() {
  "$NNC" emit --stage=opt "$1" |
    sed -E 's/ +loc\(.*\)$//; s/init = [a-z]+(\([^)]*\))?(, )?//; s/ \{\}//; s/ +$//'
}
# layer_norm_weights: layer_norm_onnx trained 20 steps, exported with its
# weights and imported: the same tensors (weight_diff: 0) and the same
# predictions, byte for byte.
layer_norm_weights() {
  local src=$NNC_SOURCE_DIR/tests/e2e/layer_norm_onnx.nn d=$TMP/lnw
  mkdir -p "$d/rt"
  expect_ok "$NNC" train "$src" --steps 20 --quiet --backend cpu \
    --save "$d/w.safetensors" || return
  expect_ok "$NNC" export "$src" --weights "$d/w.safetensors" \
    -o "$d/rt/layer_norm_onnx.onnx" || return
  expect_ok "$NNC" import "$d/rt/layer_norm_onnx.onnx" \
    -o "$d/rt/layer_norm_onnx.nn" || return
  if ! out=$("$PY" "$NNC_SOURCE_DIR/tests/e2e/weights_diff.py" \
      "$d/w.safetensors" "$d/rt/layer_norm_onnx.safetensors" 0 2>&1); then
    fail "layer_norm_onnx: weights after the round trip: $out"
    return
  fi
  expect_ok "$NNC" predict "$src" --weights "$d/w.safetensors" \
    --data "$FMNIST/t10k" --limit $COUNT || return
  local before=$OUT
  expect_ok "$NNC" predict "$d/rt/layer_norm_onnx.nn" --data "$FMNIST/t10k" \
    --weights "$d/rt/layer_norm_onnx.safetensors" --limit $COUNT || return
  if [ "$before" = "$OUT" ]; then
    echo "ok: layer_norm_onnx: the round trip keeps the weights ($out) and"\
      "the $COUNT predictions"
  else
    fail "layer_norm_onnx: predictions differ after the round trip"
  fi
}
if "$NNC" export --help >/dev/null 2>&1; then
  for src in "$EX/mnist_mlp.nn" "$EX/fashion_cnn.nn" \
      "$NNC_SOURCE_DIR/tests/e2e/layer_norm_onnx.nn"; do
    m=$(basename "$src" .nn)
    mkdir -p "$TMP/rt"
    expect_ok "$NNC" export "$src" -o "$TMP/rt/$m.onnx" || continue
    expect_ok "$NNC" import "$TMP/rt/$m.onnx" -o "$TMP/rt/$m.nn" || continue
    if diff <(opt_graph "$src") <(opt_graph "$TMP/rt/$m.nn") \
        >"$TMP/rt/$m.diff"; then
      echo "ok: $m: export then import gives the same graph (--stage=opt)"
    else
      fail "$m: the imported graph differs:"$'\n'"$(head -20 "$TMP/rt/$m.diff")"
    fi
  done
  layer_norm_weights
else
  echo "note: this nnc has no export command: the round trip is not checked"
fi

head -c 200 "$TMP/mlp.onnx" >"$TMP/cut.onnx"
expect_error "not a valid ONNX model" "$NNC" import "$TMP/cut.onnx" -o "$TMP/cut.nn"
expect_error "cannot open file" "$NNC" import "$TMP/none.onnx" -o "$TMP/n.nn"
expect_error "needs -o FILE.nn" "$NNC" import "$TMP/mlp.onnx"
[ -e "$TMP/cut.nn" ] && fail "a failed import wrote cut.nn"
finish
