#!/usr/bin/env bash
# XOR: one hidden layer learns it (100% on the four points); a single neuron
# cannot (at most 75%).
source "$(dirname "$0")/lib.bash"

expect_ok "$NNC" train "$EX/xor.nn" --quiet --save "$TMP/xor.safetensors"
expect_ok "$NNC" eval "$EX/xor.nn" --weights "$TMP/xor.safetensors" \
  --data "$EX/data/xor.csv"
echo "xor with a hidden layer: $OUT"
[[ $OUT == *"accuracy 100.00%"* ]] || fail "xor.nn did not learn XOR: $OUT"

expect_ok "$NNC" train "$EX/xor_neuron.nn" --quiet --save "$TMP/n.safetensors"
expect_ok "$NNC" eval "$EX/xor_neuron.nn" --weights "$TMP/n.safetensors" \
  --data "$EX/data/xor.csv"
echo "xor with one neuron: $OUT"
acc=$(sed -n 's/.*accuracy \([0-9.]*\)%.*/\1/p' <<<"$OUT")
awk -v a="$acc" 'BEGIN { exit !(a <= 75) }' ||
  fail "a single neuron should not separate XOR, got $acc%"
finish
