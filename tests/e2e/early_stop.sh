#!/usr/bin/env bash
# Early stopping: with min_delta larger than any possible improvement, only
# epoch 1 counts as better, so training stops after 1 + patience epochs and
# restore_best brings back epoch 1's weights (equal to a 1-epoch run). The
# metrics CSV has one row per epoch.
source "$(dirname "$0")/lib.bash"
es_model "$TMP/es.nn" 50 2
expect_ok "$NNC" train "$TMP/es.nn" --save "$TMP/es.safetensors" --metrics "$TMP/m.csv"
grep -q "early stop: no improvement of the validation loss for 2 epochs; best epoch 1" "$TMP/stderr" ||
  fail "no early-stop message: $(cat "$TMP/stderr")"
grep -q "restored the weights of epoch 1" "$TMP/stderr" || fail "best weights not restored"
rows=$(($(wc -l <"$TMP/m.csv") - 1))
[ "$rows" -eq 3 ] || fail "metrics should have 3 epoch rows, has $rows"
head -1 "$TMP/m.csv" | grep -q "^epoch,step,train_loss,train_accuracy,val_loss,val_accuracy,seconds,lr$" ||
  fail "metrics header: $(head -1 "$TMP/m.csv")"
expect_ok "$NNC" train "$TMP/es.nn" --epochs 1 --quiet --save "$TMP/one.safetensors"
/usr/bin/python3 - "$TMP/es.safetensors" "$TMP/one.safetensors" <<'PY' || fail "restored weights are not epoch 1's"
import os, sys
sys.path.insert(0, os.environ["NNC_SOURCE_DIR"] + "/tests/e2e")
from safetensors_read import read
a, _ = read(sys.argv[1]); b, _ = read(sys.argv[2])
assert a == b, (a, b)
PY
finish
