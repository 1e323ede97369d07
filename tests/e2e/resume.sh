#!/usr/bin/env bash
# A run stopped part-way (mid-epoch, with momentum and shuffling) and resumed
# from its checkpoint ends with exactly the weights of an uninterrupted run.
source "$(dirname "$0")/lib.bash"
C=$EX/churn.nn
opts=(--batch 2 --epochs 6 --momentum 0.9 --seed 3 --quiet)
expect_ok "$NNC" train "$C" "${opts[@]}" --save "$TMP/straight.safetensors"
expect_ok "$NNC" train "$C" "${opts[@]}" --steps 4 --checkpoint "$TMP/ck.safetensors"
expect_ok "$NNC" train "$C" "${opts[@]}" --resume "$TMP/ck.safetensors" \
  --save "$TMP/resumed.safetensors"
/usr/bin/python3 - "$TMP/straight.safetensors" "$TMP/resumed.safetensors" <<'PY' ||
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
  fail "resumed weights differ"
finish
