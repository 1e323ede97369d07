#!/usr/bin/env bash
# The cpu backend runs the steps between the moments the trainer must act in
# one call into generated code (runtime/TrainChunks.cpp, codegen/cpu/
# EmitEpoch.cpp). It must give exactly what the step-by-step loop gives
# (NNC_STEP_BY_STEP=1): the same weights, checkpoints and metrics CSV (but
# the seconds column), for mnist_mlp over a few hundred shuffled steps with
# partial batches and chunks across epochs, for Adam + dropout + a schedule,
# for a run stopped mid-chunk by --steps, and the same error for a step
# whose loss is not finite.
source "$(dirname "$0")/lib.bash"
if ! "$NNC" train "$EX/xor.nn" --backend=cpu --steps 1 --quiet >/dev/null 2>&1; then
  echo "skip: this nnc has no cpu backend"
  exit 77
fi
DATA=$NNC_SOURCE_DIR/tests/data/fashion-tiny

# same NAME: TMP/NAME.{w,ck,csv} of both runs (a = epoch program, s = step
# by step) agree; the CSV without its seconds column.
same() {
  cmp -s "$TMP/a.$1.w" "$TMP/s.$1.w" || fail "$1: the weights differ"
  if [ -e "$TMP/s.$1.ck" ]; then
    cmp -s "$TMP/a.$1.ck" "$TMP/s.$1.ck" || fail "$1: the checkpoints differ"
  fi
  if [ -e "$TMP/s.$1.csv" ]; then
    diff <(cut -d, -f1-6,8 "$TMP/a.$1.csv") <(cut -d, -f1-6,8 "$TMP/s.$1.csv") \
      >/dev/null || fail "$1: the metrics differ"
    [ "$(wc -l <"$TMP/a.$1.csv")" -gt 2 ] || fail "$1: no metrics"
  fi
}
# both NAME ARGS...: trains twice, once each way.
both() {
  local name=$1
  shift
  expect_ok "$NNC" train "$@" --save "$TMP/a.$name.w"
  NNC_STEP_BY_STEP=1 expect_ok "$NNC" train "$@" --save "$TMP/s.$name.w"
}

# mnist_mlp: 231 training rows at batch 3, 77 batches an epoch (the last
# partial), 4 epochs: 308 steps, chunks of 64 that cross epochs' ends.
opts=(--data "$DATA" --batch 3 --epochs 4 --quiet --backend=cpu --seed 3)
expect_ok "$NNC" train "$EX/mnist_mlp.nn" "${opts[@]}" --save "$TMP/a.mlp.w" \
  --checkpoint "$TMP/a.mlp.ck" --metrics "$TMP/a.mlp.csv"
NNC_STEP_BY_STEP=1 expect_ok "$NNC" train "$EX/mnist_mlp.nn" "${opts[@]}" \
  --save "$TMP/s.mlp.w" --checkpoint "$TMP/s.mlp.ck" --metrics "$TMP/s.mlp.csv"
same mlp

# Stopped by --steps in the middle of a chunk.
both steps "$EX/mnist_mlp.nn" "${opts[@]}" --steps 100
same steps

# Adam, dropout (masks keyed by optimizer.step), warm-up + cosine.
M=$TMP/m.nn
cat > "$M" <<NN
model adam_dropout
input x : f32[784]
label y : class(10)
h  = dense(x, 32, gelu)
hd = dropout(h, 0.25)
o  = dense(hd, 10)
loss cross_entropy(softmax(o), y)
train {
  data      idx("$DATA")
  optimizer adam(lr = 0.003, weight_decay = 0.001)
  schedule  warmup(steps = 20) + cosine(epochs = 3, min_lr = 0.0001)
  batch 5
  epochs 3
  validation 0.2
  seed 5
}
NN
expect_ok "$NNC" train "$M" --quiet --backend=cpu --save "$TMP/a.adam.w" \
  --metrics "$TMP/a.adam.csv"
NNC_STEP_BY_STEP=1 expect_ok "$NNC" train "$M" --quiet --backend=cpu \
  --save "$TMP/s.adam.w" --metrics "$TMP/s.adam.csv"
same adam

# A learning rate that blows the loss up: the same step is named, the same
# op, and nothing is saved.
bad=(train "$EX/mnist_mlp.nn" --data "$DATA" --batch 3 --quiet --backend=cpu
     --lr 1e6 --momentum 0 --save "$TMP/bad.w")
"$NNC" "${bad[@]}" 2>"$TMP/a.err" >/dev/null
rc_a=$?
NNC_STEP_BY_STEP=1 "$NNC" "${bad[@]}" 2>"$TMP/s.err" >/dev/null
rc_s=$?
[ "$rc_a" -eq 1 ] && [ "$rc_s" -eq 1 ] || fail "a non-finite loss: exit $rc_a and $rc_s (want 1)"
grep -q "training stopped at step" "$TMP/a.err" || fail "no numerics error: $(cat "$TMP/a.err")"
diff "$TMP/a.err" "$TMP/s.err" >/dev/null ||
  fail "the errors differ: $(cat "$TMP/a.err") vs $(cat "$TMP/s.err")"
[ ! -e "$TMP/bad.w" ] || fail "weights saved after a non-finite step"
finish
