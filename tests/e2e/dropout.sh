#!/usr/bin/env bash
# Dropout end to end: a run stopped part-way and resumed from its
# checkpoint ends with exactly the weights of the uninterrupted run (the
# step count that keys the masks is in the checkpoint); the masks change
# the training (against the same model without them); evaluation (the
# test metrics at the end of train, eval, predict) runs without dropout:
# train's test metrics are eval's, two predicts agree, and agree with the
# same model written without its dropouts.
source "$(dirname "$0")/lib.bash"
model() { # FILE: the xor network with two dropouts (or none, with "plain")
  local d1="dropout(h, 0.25)" d2="dropout(g, 0.5)"
  if [ "${2:-}" = plain ]; then d1=h; d2=g; fi
  cat >"$1" <<NN
model drop
input x : f32[2]
label y : binary
h = dense(x, 16, tanh)
hd = $d1
g = dense(hd, 8, relu)
gd = $d2
out = dense(gd, 1)
loss bce(sigmoid(out), y)
train {
  data csv("$EX/data/xor.csv", label = "y")
  test csv("$EX/data/xor.csv", label = "y")
  optimizer sgd(lr = 0.3, momentum = 0.9)
  batch 2  epochs 5  seed 3
}
NN
}
model "$TMP/drop.nn"
model "$TMP/plain.nn" plain

for backend in cpu interp; do
  opts=(--backend "$backend" --quiet)
  expect_ok "$NNC" train "$TMP/drop.nn" "${opts[@]}" \
    --save "$TMP/straight-$backend.safetensors"
  trained=$OUT
  expect_ok "$NNC" train "$TMP/drop.nn" "${opts[@]}" --steps 3 \
    --checkpoint "$TMP/ck-$backend.safetensors"
  expect_ok "$NNC" train "$TMP/drop.nn" "${opts[@]}" \
    --resume "$TMP/ck-$backend.safetensors" \
    --save "$TMP/resumed-$backend.safetensors"
  expect_ok "$NNC" train "$TMP/drop.nn" "${opts[@]}" --seed 4 \
    --save "$TMP/seed4-$backend.safetensors"
  expect_ok "$NNC" train "$TMP/plain.nn" "${opts[@]}" \
    --save "$TMP/plain-$backend.safetensors"
  # The test-set metrics at the end of training run without dropout: those
  # of `nnc eval` on the saved weights.
  expect_ok "$NNC" eval "$TMP/drop.nn" --backend "$backend" \
    --weights "$TMP/straight-$backend.safetensors"
  [ "${trained#test: }" = "${OUT#eval: }" ] &&
    echo "ok: $backend: train's test metrics are eval's: ${OUT#eval: }" ||
    fail "$backend: train's test metrics '$trained' differ from '$OUT'"
  /usr/bin/python3 - "$TMP" "$backend" <<'PY' || fail "$backend: resume"
import os, sys
sys.path.insert(0, os.environ["NNC_SOURCE_DIR"] + "/tests/e2e")
from safetensors_read import read
tmp, be = sys.argv[1], sys.argv[2]
a, _ = read(f"{tmp}/straight-{be}.safetensors")
b, _ = read(f"{tmp}/resumed-{be}.safetensors")
c, _ = read(f"{tmp}/seed4-{be}.safetensors")
plain, _ = read(f"{tmp}/plain-{be}.safetensors")
ck, _ = read(f"{tmp}/ck-{be}.safetensors")
assert a.keys() == b.keys(), (a.keys(), b.keys())
for k in a:
    assert a[k] == b[k], (k, a[k], b[k])
step = [v for k, v in ck.items() if k.endswith("optimizer.step")]
assert step and step[0][1] == [3.0], (sorted(ck), step)
assert a["h.weight"] != c["h.weight"], "another seed, the same weights"
# The same first weights and batches without dropout train otherwise.
assert a["out.weight"] != plain["out.weight"], "dropout changed nothing"
print(be + ": resumed run equals the uninterrupted one, bit for bit;",
      "the checkpoint holds the step count", step[0][1])
PY
done

# Evaluation runs without dropout: deterministic, and the model's value
# without its dropouts.
W=$TMP/straight-cpu.safetensors
expect_ok "$NNC" predict "$TMP/drop.nn" --weights "$W" --data "$EX/data/xor.csv"
first=$OUT
expect_ok "$NNC" predict "$TMP/drop.nn" --weights "$W" --data "$EX/data/xor.csv"
[ "$OUT" = "$first" ] && echo "ok: two predicts agree" ||
  fail "two predicts differ"
expect_ok "$NNC" predict "$TMP/plain.nn" --weights "$W" --data "$EX/data/xor.csv"
[ "$OUT" = "$first" ] && echo "ok: predict equals the model without dropout" ||
  fail "predict differs from the model without dropout"$'\n'"$first"$'\n'"$OUT"
expect_ok "$NNC" eval "$TMP/drop.nn" --weights "$W"
a=$OUT
# A checkpoint (with the step count and momenta) serves as weights too.
expect_ok "$NNC" eval "$TMP/drop.nn" --weights "$TMP/ck-cpu.safetensors" &&
  echo "ok: a checkpoint with the step count evaluates"
expect_ok "$NNC" eval "$TMP/plain.nn" --weights "$W"
[ "$OUT" = "$a" ] && echo "ok: eval equals the model without dropout" ||
  fail "eval differs: $a / $OUT"
finish
