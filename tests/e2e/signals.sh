#!/usr/bin/env bash
# SIGINT/SIGTERM during `nnc train`: the step under way finishes, a
# checkpoint is written atomically, the exit status is 130, and --resume
# reaches exactly the weights of an uninterrupted run. (400 epochs: the
# interrupted run must still be going when the signal comes, however fast
# the steps are.)
source "$(dirname "$0")/lib.bash"
M=$TMP/tiny.nn
cat > "$M" <<NN
model tiny
input x : f32[784]
label y : class(10)
h = dense(x, 32, relu)
o = dense(h, 10)
loss cross_entropy(softmax(o), y)
train {
  data idx("$NNC_SOURCE_DIR/tests/data/fashion-tiny")
  optimizer sgd(lr = 0.01, momentum = 0.9)
  batch 16  epochs 400  seed 5
}
NN
expect_ok "$NNC" train "$M" --quiet --save "$TMP/straight.safetensors"

# interrupt SIGNAL NAME EXTRA...: starts a run, waits until two epochs are
# done, sends SIGNAL, and checks the exit status and the message.
interrupt() {
  local sig=$1 name=$2
  shift 2
  rm -f "$TMP/metrics.csv"
  "$NNC" train "$M" --metrics "$TMP/metrics.csv" "$@" 2>"$TMP/$name.err" &
  local pid=$! waited=0
  while [ "$(cat "$TMP/metrics.csv" 2>/dev/null | wc -l)" -lt 3 ]; do
    sleep 0.05
    waited=$((waited + 1))
    [ $waited -lt 2400 ] || { fail "$name: no progress"; kill -9 $pid; return; }
  done
  kill -s "$sig" $pid
  wait $pid
  local rc=$?
  if [ $rc -ne 130 ]; then
    fail "$name: exit status $rc, want 130"$'\n'"$(cat "$TMP/$name.err")"
  elif ! grep -q "interrupted by signal .*checkpoint written to" "$TMP/$name.err"; then
    fail "$name: no checkpoint message"$'\n'"$(cat "$TMP/$name.err")"
  else
    echo "ok: $name: exit 130, $(grep -o 'after [0-9]* steps' "$TMP/$name.err")"
  fi
}

interrupt INT sigint --checkpoint "$TMP/ck.safetensors"
[ -f "$TMP/ck.safetensors" ] || fail "no checkpoint after SIGINT"
ls "$TMP" | grep -q '\.tmp\.' && fail "a temp file was left behind"
expect_ok "$NNC" train "$M" --quiet --resume "$TMP/ck.safetensors" \
  --save "$TMP/resumed.safetensors"

# SIGTERM without --checkpoint: <model>.interrupted.safetensors.
interrupt TERM sigterm
[ -f "$TMP/tiny.interrupted.safetensors" ] ||
  fail "no tiny.interrupted.safetensors after SIGTERM"
expect_ok "$NNC" train "$M" --quiet --resume "$TMP/tiny.interrupted.safetensors" \
  --save "$TMP/resumed2.safetensors"

/usr/bin/python3 - "$TMP"/straight.safetensors "$TMP"/resumed.safetensors \
  "$TMP"/resumed2.safetensors <<'PY' || fail "resumed weights differ"
import os, sys
sys.path.insert(0, os.environ["NNC_SOURCE_DIR"] + "/tests/e2e")
from safetensors_read import read
a, _ = read(sys.argv[1])
for other in sys.argv[2:]:
    b, _ = read(other)
    assert a.keys() == b.keys(), (a.keys(), b.keys())
    for k in a:
        assert a[k] == b[k], (other, k)
print("interrupted and resumed runs equal the straight one, bit for bit")
PY
finish
