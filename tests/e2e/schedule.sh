#!/usr/bin/env bash
# The schedule through the CLI: a run stopped part-way and resumed with
# --resume ends bit for bit where the uninterrupted run does (the resumed
# steps take the schedule's lr for their step and epoch); the progress lines
# and the metrics CSV show the lr of each epoch's last step, --lr moves the
# base the schedule scales; clip_grad_norm 0 and a schedule without an
# optimizer lr are located errors (exit 1).
source "$(dirname "$0")/lib.bash"
M=$TMP/xor.nn
cat >"$M" <<NN
model xor
input x : f32[2]
label y : binary
hidden = dense(x, 4, tanh)
out    = dense(hidden, 1)
loss bce(sigmoid(out), y)
train {
  data      csv("$EX/data/xor.csv", label = "y")
  optimizer sgd(lr = 0.5, momentum = 0.9)
  schedule  warmup(steps = 6) + cosine(epochs = 4, min_lr = 0.05)
  clip_grad_norm 0.5
  batch 1  epochs 5  seed 3
}
NN
expect_ok "$NNC" train "$M" --save "$TMP/straight.st" --metrics "$TMP/straight.csv"
log=$(cat "$TMP/stderr")
expect_ok "$NNC" train "$M" --quiet --steps 7 --checkpoint "$TMP/ck.st" \
  --metrics "$TMP/resumed.csv"
expect_ok "$NNC" train "$M" --quiet --resume "$TMP/ck.st" --save "$TMP/resumed.st" \
  --metrics "$TMP/resumed.csv"
/usr/bin/python3 - "$TMP/straight.st" "$TMP/resumed.st" "$TMP/straight.csv" \
  "$TMP/resumed.csv" <<'PY' || fail "the resumed scheduled run differs"
import csv, math, os, sys
sys.path.insert(0, os.environ["NNC_SOURCE_DIR"] + "/tests/e2e")
from safetensors_read import read
a, _ = read(sys.argv[1])
b, _ = read(sys.argv[2])
assert a.keys() == b.keys(), (a.keys(), b.keys())
for k in a:
    assert a[k] == b[k], (k, a[k], b[k])
# 4 steps an epoch: the lr of step s (0-based) in epoch e.
def lr(s, e):
    return min(1, (s + 1) / 6) * (0.05 + 0.45 * (1 + math.cos(math.pi * e / 4)) / 2)
want = [lr(4 * e + 3, e) for e in range(5)]
for f in sys.argv[3:]:
    rows = list(csv.DictReader(open(f)))
    got = [float(r["lr"]) for r in rows]
    assert len(got) == 5 and all(abs(g - w) < 1e-12 for g, w in zip(got, want)), (f, got, want)
print("resumed equals uninterrupted, bit for bit; lr column", ["%.4g" % w for w in want])
PY
# The epoch lines: the lr of each epoch's last step, 4 significant digits.
for want in "epoch 1/5 .*  lr 0.3333  " "epoch 2/5 .*  lr 0.4341  " \
    "epoch 5/5 .*  lr 0.05  "; do
  grep -q "$want" <<<"$log" || fail "no '$want' in: $log"
done
# --lr scales the base: the first epoch's lr is 4/6 of it.
expect_ok "$NNC" train "$M" --epochs 1 --lr 0.3
grep -q "epoch 1/1 .*  lr 0.2  " "$TMP/stderr" ||
  fail "--lr did not move the schedule: $(cat "$TMP/stderr")"

sed 's/clip_grad_norm 0.5/clip_grad_norm 0/' "$M" >"$TMP/clip0.nn"
expect_error "clip0.nn:11:18: error: clip_grad_norm must be positive" \
  "$NNC" train "$TMP/clip0.nn"
sed 's/sgd(lr = 0.5, momentum = 0.9)/sgd(momentum = 0.9)/' "$M" >"$TMP/nolr.nn"
expect_error "nolr.nn:10:3: error: a schedule needs the learning rate of an 'optimizer' line" \
  "$NNC" train "$TMP/nolr.nn"
finish
