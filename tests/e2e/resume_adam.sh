#!/usr/bin/env bash
# An Adam run (its m, v and the step counter optimizer.step in the checkpoint,
# so the bias corrections continue at the right t) stopped mid-epoch and
# resumed from its checkpoint ends with exactly the weights of an
# uninterrupted run, on the CPU backend and on the interpreter; AdamW too.
source "$(dirname "$0")/lib.bash"
C=$EX/churn.nn
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
print("resumed run equals the uninterrupted one, bit for bit:", sorted(a))
PY
}
for run in "adam cpu" "adam interp" "adamw cpu"; do
  set -- $run
  opts=(--batch 2 --epochs 5 --optimizer "$1" --lr 0.01 --seed 3 --quiet --backend "$2")
  expect_ok "$NNC" train "$C" "${opts[@]}" --save "$TMP/straight.safetensors"
  expect_ok "$NNC" train "$C" "${opts[@]}" --steps 7 --checkpoint "$TMP/ck.safetensors"
  # The checkpoint holds Adam's state and the step count.
  /usr/bin/python3 - "$TMP/ck.safetensors" <<'PY' || fail "$run: checkpoint lacks Adam's state"
import os, sys
sys.path.insert(0, os.environ["NNC_SOURCE_DIR"] + "/tests/e2e")
from safetensors_read import read
t, _ = read(sys.argv[1])
for k in ("optimizer.w.m", "optimizer.w.v", "optimizer.b.m", "optimizer.b.v", "optimizer.step"):
    assert k in t, (k, sorted(t))
assert t["optimizer.step"][1] == [7.0], t["optimizer.step"]
PY
  expect_ok "$NNC" train "$C" "${opts[@]}" --resume "$TMP/ck.safetensors" \
    --save "$TMP/resumed.safetensors"
  compare "$TMP/straight.safetensors" "$TMP/resumed.safetensors" ||
    fail "$run: resumed weights differ"
done
# Resuming with another optimizer would drop Adam's m and v (or start SGD's
# momentum at zero) without a word: it is an error naming both.
expect_error "was written by optimizer 'adamw'; this run uses 'sgd'" \
  "$NNC" train "$C" --batch 2 --epochs 5 --optimizer sgd --lr 0.01 --seed 3 \
  --quiet --resume "$TMP/ck.safetensors"
finish
