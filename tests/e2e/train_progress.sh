#!/usr/bin/env bash
# What nnc train shows is drawn by the driver from the trainer's events
# (tools/TrainProgress.cpp): a log gets plain lines, one per epoch; a
# --steps stop mid-epoch says where it stopped; --quiet drops the progress
# but keeps the trainer's notes and warnings (a changed learning rate, a
# checkpoint that has done every epoch already).
source "$(dirname "$0")/lib.bash"
M=$EX/xor.nn
ck=$TMP/ck.safetensors
expect_ok "$NNC" train "$M" --backend=interp --batch 1 --epochs 3 --steps 6 \
  --checkpoint "$ck"
grep -qx "epoch 1/3  loss [0-9.]*  acc [0-9.]*%  lr [0-9.e-]*  [0-9.]*s  [0-9]* samples/s" \
  "$TMP/stderr" || fail "no epoch line: $(cat "$TMP/stderr")"
grep -qx "stopped after 6 steps (epoch 2, batch 2/4)  loss [0-9.]*  acc [0-9.]*%" \
  "$TMP/stderr" || fail "no stop line: $(cat "$TMP/stderr")"
[ "$(grep -c '^epoch ' "$TMP/stderr")" -eq 1 ] ||
  fail "one epoch line expected: $(cat "$TMP/stderr")"
if grep -q $'[\r\x1b]' "$TMP/stderr"; then
  fail "control characters in a log: $(cat -A "$TMP/stderr")"
fi

expect_ok "$NNC" train "$M" --backend=interp --batch 1 --epochs 1 --lr 0.1 \
  --quiet --resume "$ck"
want="nnc: note: resuming with learning rate 0.1; the checkpoint was trained with 0.5 (set by --lr or the optimizer line)
nnc: warning: the checkpoint '$ck' has done 1 epochs already, and this run has 1; nothing to train
nnc: help: pass --epochs N with N greater than 1 to train on"
[ "$(cat "$TMP/stderr")" = "$want" ] ||
  fail "--quiet should keep the notes and warnings only: $(cat "$TMP/stderr")"
echo "$OUT" | grep -q "^train: accuracy" || fail "no result on stdout: $OUT"
finish
