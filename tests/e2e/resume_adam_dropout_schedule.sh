#!/usr/bin/env bash
# Issue 14's resume check, all parts at once: a run with Adam, dropout (its
# masks keyed by optimizer.step), a warm-up + cosine schedule and clip_grad_norm,
# stopped mid-epoch and resumed from its checkpoint, ends with exactly the
# weights of the uninterrupted run, on the CPU backend and the interpreter.
source "$(dirname "$0")/lib.bash"
M=$TMP/m.nn
cat > "$M" <<NN
model adam_dropout
input x : f32[2]
label y : binary
h  = dense(x, 8, gelu)
hd = dropout(h, 0.25)
n  = layer_norm(hd)
o  = dense(n, 1)
loss bce(sigmoid(o), y)
train {
  data      csv("$EX/data/churn.csv", label = "keep")
  optimizer adam(lr = 0.01, weight_decay = 0.001)
  schedule  warmup(steps = 3) + cosine(epochs = 4, min_lr = 0.001)
  clip_grad_norm 0.5
  batch 2
  epochs 4
  seed 5
}
NN
compare() {
  /usr/bin/python3 - "$1" "$2" <<'PY'
import os, sys
sys.path.insert(0, os.environ["NNC_SOURCE_DIR"] + "/tests/e2e")
from safetensors_read import read
a, _ = read(sys.argv[1])
b, _ = read(sys.argv[2])
assert a.keys() == b.keys(), (a.keys(), b.keys())
for k in a:
    assert a[k] == b[k], (k, a[k], b[k])
PY
}
for backend in cpu interp; do
  opts=(--quiet --backend "$backend")
  expect_ok "$NNC" train "$M" "${opts[@]}" --save "$TMP/straight.safetensors"
  expect_ok "$NNC" train "$M" "${opts[@]}" --steps 5 --checkpoint "$TMP/ck.safetensors"
  expect_ok "$NNC" train "$M" "${opts[@]}" --resume "$TMP/ck.safetensors" \
    --save "$TMP/resumed.safetensors"
  compare "$TMP/straight.safetensors" "$TMP/resumed.safetensors" ||
    fail "$backend: the resumed run's weights differ from the straight run's"
  # Without the interruption the dropout masks matter: a run without
  # dropout ends elsewhere (so the test would see a mask that is lost).
  sed 's/dropout(h, 0.25)/h * 1/' "$M" > "$TMP/nodrop.nn"
  expect_ok "$NNC" train "$TMP/nodrop.nn" "${opts[@]}" --save "$TMP/nodrop.safetensors"
  compare "$TMP/straight.safetensors" "$TMP/nodrop.safetensors" &&
    fail "$backend: dropout changed nothing"
done
finish
