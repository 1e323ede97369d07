#!/usr/bin/env bash
# nnc export (issue 18). Every example exports (from its initial parameters)
# and passes onnx.checker.check_model with full_check (Debian's
# python3-onnx; skipped with a message when `import onnx` fails). Then
# mnist_mlp and fashion_cnn, trained a few steps on tests/data/fashion-tiny
# (so that batch norm's running statistics are not their first values), are
# exported from their weights and run by ONNX Runtime on the first 1,000
# Fashion-MNIST test images (and so is a model of every other activation
# and layer): its probabilities must be `nnc predict`'s to
# 1e-5 (tests/e2e/onnx_ort.py). ONNX Runtime comes from PyPI into a virtual
# environment, $NNC_ONNX_VENV or ~/.cache/nnc/onnx-venv (made here, with
# the system's packages visible, when it does not import onnxruntime yet);
# where pip cannot install it, that part skips with pip's reason. Bad
# flags and files get clear errors, and a failed export leaves no file.
source "$(dirname "$0")/lib.bash"
PY=${PYTHON:-/usr/bin/python3}
HERE=$NNC_SOURCE_DIR/tests/e2e
TINY=$NNC_SOURCE_DIR/tests/data/fashion-tiny
IMAGES=$FMNIST/t10k-images-idx3-ubyte.gz
COUNT=1000

if "$NNC" export "$EX/xor.nn" -o "$TMP/probe.onnx" 2>&1 >/dev/null |
  grep -q "built without ONNX"; then
  echo "SKIP: this nnc was built without ONNX (libonnx-dev, libprotobuf-dev)"
  exit 77
fi

# --- every example exports; the checker accepts each file
exported=()
for f in "$EX"/*.nn; do
  n=$(basename "$f" .nn)
  if expect_ok "$NNC" export "$f" -o "$TMP/$n.onnx"; then
    exported+=("$TMP/$n.onnx")
    grep -q "no --weights: exporting the model's initial parameters" \
      "$TMP/stderr" || fail "$n: no note about the initial parameters"
    echo "ok: $OUT"
  fi
done
if "$PY" -c "import onnx" 2>/dev/null; then
  if "$PY" - "${exported[@]}" <<'EOF'; then
import sys
import onnx

for path in sys.argv[1:]:
    m = onnx.load(path)
    onnx.checker.check_model(m, full_check=True)
    assert m.opset_import[0].version == 17, m.opset_import
    props = {p.key: p.value for p in m.metadata_props}
    assert props["nnc.source"].startswith(("#", "model")), path
    assert "nnc.version" in props, path
    g = m.graph
    dim = g.input[0].type.tensor_type.shape.dim[0]
    assert dim.dim_param == "N", (path, dim)
    assert [o.name for o in g.output] == ["pred"], path
    print("ok: check_model", path.rsplit("/", 1)[1], len(g.node), "nodes")
EOF
    :
  else
    fail "onnx.checker.check_model rejected an export"
  fi
else
  echo "SKIP (check_model): $PY cannot import onnx (Debian python3-onnx)"
fi

# --- the initializers are the safetensors tensors, by name and value
expect_ok "$NNC" train "$EX/mnist_mlp.nn" --data "$TINY" --validation 0 \
  --steps 5 --batch 16 --quiet --save "$TMP/mlp.safetensors" &&
  expect_ok "$NNC" export "$EX/mnist_mlp.nn" --weights "$TMP/mlp.safetensors" \
    -o "$TMP/mlp.onnx"
if "$PY" -c "import onnx, numpy" 2>/dev/null; then
  "$PY" - "$TMP/mlp.onnx" "$TMP/mlp.safetensors" <<'EOF' || fail "initializers differ from the weights file"
import json, struct, sys
import numpy, onnx
from onnx import numpy_helper

m = onnx.load(sys.argv[1])
blob = open(sys.argv[2], "rb").read()
n = struct.unpack("<Q", blob[:8])[0]
header = json.loads(blob[8:8 + n])
inits = {t.name: numpy_helper.to_array(t) for t in m.graph.initializer}
assert sorted(inits) == sorted(k for k in header if k != "__metadata__"), sorted(inits)
for name, t in inits.items():
    h = header[name]
    a, b = h["data_offsets"]
    w = numpy.frombuffer(blob[8 + n + a:8 + n + b], dtype="<f4").reshape(h["shape"])
    assert numpy.array_equal(w, t), name
print("ok: initializers are the safetensors tensors:", ", ".join(sorted(inits)))
EOF
fi

# --- without --weights: the parameters nnc train starts from
expect_ok "$NNC" train "$EX/mnist_mlp.nn" --data "$TINY" --validation 0 \
  --steps 0 --quiet --save "$TMP/mlp0.safetensors" &&
  expect_ok "$NNC" export "$EX/mnist_mlp.nn" --weights "$TMP/mlp0.safetensors" \
    -o "$TMP/mlp0.onnx"
if "$PY" -c "import onnx" 2>/dev/null; then
  "$PY" - "$TMP/mnist_mlp.onnx" "$TMP/mlp0.onnx" <<'EOF' || fail "export without --weights is not train's starting point"
import sys
import onnx

a, b = (onnx.load(p).graph.initializer for p in sys.argv[1:3])
assert [t.name for t in a] == [t.name for t in b]
assert all(x.raw_data == y.raw_data for x, y in zip(a, b))
print("ok: without --weights, the parameters train --steps 0 saves")
EOF
fi

# --- errors
expect_error "export needs -o" "$NNC" export "$EX/xor.nn"
expect_error "the same file" "$NNC" export "$EX/xor.nn" -o "$EX/xor.nn"
expect_error "cannot open" "$NNC" export "$EX/xor.nn" --weights "$TMP/none.safetensors" -o "$TMP/x.onnx"
expect_error "mnist_mlp" "$NNC" export "$EX/xor.nn" --weights "$TMP/mlp.safetensors" -o "$TMP/x.onnx"
[ -e "$TMP/x.onnx" ] && fail "a failed export left $TMP/x.onnx"
echo "old" >"$TMP/keep.onnx"
expect_error "error" "$NNC" export "$EX/xor.nn" --weights "$TMP/mlp.safetensors" -o "$TMP/keep.onnx"
[ "$(cat "$TMP/keep.onnx")" = old ] || fail "a failed export replaced the file"

# --- ONNX Runtime against nnc predict
venv=${NNC_ONNX_VENV:-$HOME/.cache/nnc/onnx-venv}
ort_ready() { "$venv/bin/python" -c "import onnxruntime, numpy" 2>/dev/null; }
if ! ort_ready; then
  echo "note: installing onnxruntime from PyPI into $venv"
  if ! { "$PY" -m venv --system-site-packages "$venv" &&
         timeout 300 "$venv/bin/pip" install --quiet --retries 1 --timeout 30 \
           onnxruntime; } >"$TMP/pip.log" 2>&1 || ! ort_ready; then
    echo "SKIP (onnxruntime): it could not be installed: $(tail -n 3 "$TMP/pip.log")"
    finish
    exit 0
  fi
fi
if [ ! -e "$IMAGES" ]; then
  echo "SKIP (onnxruntime): no Fashion-MNIST test set ($IMAGES)"
  finish
  exit 0
fi
# ort_check NAME MODEL.nn STEPS: train, export, predict, compare.
ort_check() {
  local n=$1 model=$2 steps=$3
  expect_ok "$NNC" train "$model" --data "$TINY" --validation 0 --steps "$steps" \
    --batch 16 --quiet --save "$TMP/$n.w.safetensors" || return
  expect_ok "$NNC" export "$model" --weights "$TMP/$n.w.safetensors" \
    -o "$TMP/$n.w.onnx" || return
  expect_ok "$NNC" predict "$model" --weights "$TMP/$n.w.safetensors" \
    --limit $COUNT || return
  printf '%s\n' "$OUT" >"$TMP/$n.csv"
  "$venv/bin/python" "$HERE/onnx_ort.py" "$TMP/$n.w.onnx" "$TMP/$n.csv" \
    "$IMAGES" $COUNT || fail "$n: onnxruntime differs from nnc predict"
}
ort_check mnist_mlp "$EX/mnist_mlp.nn" 5
ort_check fashion_cnn "$EX/fashion_cnn.nn" 3
# Every other mapping with numbers: silu, gelu (its erf form), softplus,
# leaky_relu, softsign, tanh, sigmoid, average pooling, batch norm after
# it, layer norm, a scalar constant.
cat >"$TMP/zoo.nn" <<NN
model zoo
input x : f32[1, 28, 28]
label y : class(10)
c1 = conv2d(x, 4, kernel = 3, stride = 2, padding = 1, silu)
a1 = avgpool2d(c1, 2)
n1 = batch_norm(a1)
g  = flatten(n1)
h1 = dense(g, 32, gelu)
h2 = dense(h1, 32, softplus)
h3 = dense(h2, 32, leaky_relu(0.2))
h4 = dense(h3, 16, softsign)
n  = layer_norm(h4)
out = dense(tanh(n) + sigmoid(n) * 0.5, 10)
loss cross_entropy(softmax(out), y)
train {
  data idx("$FMNIST/train")
  test idx("$FMNIST/t10k")
  optimizer sgd(lr = 0.05, momentum = 0.9)
  batch 16  seed 3
}
NN
ort_check zoo "$TMP/zoo.nn" 3
finish
