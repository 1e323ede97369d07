#!/usr/bin/env bash
# --deterministic is the CPU backend's only mode: a fixed seed gives
# byte-identical weights whatever the thread count (the kernels split work
# by output columns or ranges, never by partial sums) and from run to run.
# 30 shuffled steps of mnist_mlp at batch 37 (partial micro-kernel tiles).
source "$(dirname "$0")/lib.bash"
if ! "$NNC" train "$EX/xor.nn" --backend=cpu --steps 1 --quiet >/dev/null 2>&1; then
  echo "skip: this nnc has no cpu backend"
  exit 77
fi
DATA=$NNC_SOURCE_DIR/tests/data/fashion-tiny
opts=(--data "$DATA" --steps 30 --batch 37 --validation 0 --quiet
      --backend=cpu --seed 7)
for t in 1 2 3 2; do
  expect_ok "$NNC" train "$EX/mnist_mlp.nn" "${opts[@]}" --threads $t \
    --save "$TMP/w$t.safetensors"
  cmp -s "$TMP/w1.safetensors" "$TMP/w$t.safetensors" ||
    fail "--threads $t gives other weights than --threads 1"
done
expect_ok "$NNC" train "$EX/mnist_mlp.nn" "${opts[@]}" --fuse=none \
  --threads 2 --save "$TMP/n2.safetensors"
expect_ok "$NNC" train "$EX/mnist_mlp.nn" "${opts[@]}" --fuse=none \
  --threads 1 --save "$TMP/n1.safetensors"
cmp -s "$TMP/n1.safetensors" "$TMP/n2.safetensors" ||
  fail "unfused: --threads 2 gives other weights than --threads 1"
expect_error "--threads must be from 1 to 256" "$NNC" train "$EX/xor.nn" \
  --threads 0
finish
