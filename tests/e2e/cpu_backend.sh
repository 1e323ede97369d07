#!/usr/bin/env bash
# The CPU backend trains like the reference interpreter: mnist_mlp on the
# 256-sample Fashion-MNIST subset, 20 SGD steps with momentum and L2 (no
# shuffling, no validation split), fused and unfused, gives the same weights
# as --backend=interp to 1e-4 (float32 against double: relative to each
# tensor's largest magnitude for elements near zero, as the unit tests
# compare); and the xor example trains to the interpreter's loss on cpu.
source "$(dirname "$0")/lib.bash"
if ! "$NNC" train "$EX/xor.nn" --backend=cpu --steps 1 --quiet >/dev/null 2>&1; then
  echo "skip: this nnc has no cpu backend"
  exit 0
fi
DATA=$NNC_SOURCE_DIR/tests/data/fashion-tiny
opts=(--data "$DATA" --steps 20 --batch 16 --no-shuffle --validation 0
      --quiet --no-cache)
expect_ok "$NNC" train "$EX/mnist_mlp.nn" "${opts[@]}" --backend=interp \
  --save "$TMP/interp.safetensors"
for fuse in all none; do
  expect_ok "$NNC" train "$EX/mnist_mlp.nn" "${opts[@]}" --backend=cpu \
    --fuse=$fuse --save "$TMP/cpu-$fuse.safetensors"
  /usr/bin/python3 - "$TMP/interp.safetensors" "$TMP/cpu-$fuse.safetensors" <<'PY' ||
import os, sys
sys.path.insert(0, os.environ["NNC_SOURCE_DIR"] + "/tests/e2e")
from safetensors_read import read
want, _ = read(sys.argv[1])
got, _ = read(sys.argv[2])
assert want.keys() == got.keys(), (want.keys(), got.keys())
worst = 0.0
for k in want:
    ws, w = want[k]
    gs, g = got[k]
    assert ws == gs, (k, ws, gs)
    scale = max(abs(x) for x in w)
    for a, b in zip(w, g):
        err = abs(a - b) / (abs(a) + 1e-2 * scale + 1e-30)
        worst = max(worst, err)
        assert err <= 1e-4, (k, a, b, err)
moved = sum(1 for k in want for a in want[k][1] if a != 0)
assert moved > 1000, "the weights did not train"
print("cpu weights equal the interpreter's to %.2g relative (%s)" %
      (worst, sys.argv[2].rsplit("/", 1)[-1]))
PY
    fail "cpu --fuse=$fuse weights differ from the interpreter's"
done
# XOR, 300 epochs from the same seed on both backends: the same final loss
# (printed to 4 decimals) and 100% accuracy.
last_epoch() { grep '^epoch 300/300' | sed -E 's/.*loss ([0-9.]+)  acc ([0-9.]+)%.*/\1 \2/'; }
# (Progress lines go to stderr.)
cpu=$("$NNC" train "$EX/xor.nn" --backend=cpu --no-cache 2>&1 | last_epoch)
interp=$("$NNC" train "$EX/xor.nn" --backend=interp 2>&1 | last_epoch)
echo "xor, last epoch (loss, accuracy): cpu $cpu, interp $interp"
read -r cl ca <<<"$cpu"
read -r il ia <<<"$interp"
[ "$ca" = 100.00 ] || fail "xor on cpu: accuracy '$ca'"
/usr/bin/python3 -c "import sys; sys.exit(abs($cl - $il) > 2e-4)" ||
  fail "xor: cpu loss $cl, interpreter loss $il"
finish
