#!/usr/bin/env bash
# Compile time is shown apart from the epoch's: the first epoch line of a
# cold CPU run says how long the step took to compile, and its seconds and
# samples/s are the epoch's own (a 200-layer stack once showed "51.1s
# 0 samples/s"). A deep stack of equal layers compiles each distinct kernel
# once (nnc compile -v says how many were copies).
source "$(dirname "$0")/lib.bash"
if ! "$NNC" train --help 2>&1 | grep -q -- '--backend'; then
  echo "SKIP: no train command"; exit 77
fi
if ! "$NNC" emit "$EX/xor.nn" --stage=llvm >/dev/null 2>&1; then
  echo "SKIP: this nnc has no cpu backend"; exit 77
fi

{
  echo "a,b,c,y"
  for i in $(seq 1 32); do echo "0.$i,0.$((i % 7)),0.$((i % 3)),$((i % 3))"; done
} >"$TMP/d.csv"
{
  echo "model deep"
  echo "input x : f32[3]"
  echo "label y : class(3)"
  echo "h0 = dense(x, 3, relu)"
  for i in $(seq 1 29); do echo "h$i = dense(h$((i - 1)), 3, relu)"; done
  echo "loss cross_entropy(softmax(h29), y)"
  echo "train { data csv(\"$TMP/d.csv\", label = \"y\")  optimizer sgd(lr = 0.01)  batch 4  epochs 2 }"
} >"$TMP/deep.nn"

if expect_ok "$NNC" train "$TMP/deep.nn" --backend=cpu --no-cache; then
  log=$(cat "$TMP/stderr")
  first=$(grep '^epoch 1/2' <<<"$log")
  second=$(grep '^epoch 2/2' <<<"$log")
  if [[ $first =~ \(compiled\ in\ [0-9]+\.[0-9]s\)$ ]]; then
    echo "ok: the first epoch line gives the compile time: $first"
  else
    fail "no compile time on the first epoch line:"$'\n'"$log"
  fi
  [[ $second == *compiled* ]] && fail "the second epoch line names a compile: $second"
  [[ $first == *" 0 samples/s"* ]] && fail "the first epoch's rate counts the compile: $first"
fi

if expect_ok "$NNC" compile "$TMP/deep.nn" -o "$TMP/deep.o" -v; then
  if grep -Eq 'nnc: cpu: [0-9]+ kernels are copies of another, compiled once' "$TMP/stderr"; then
    echo "ok: $(grep 'copies of another' "$TMP/stderr")"
  else
    fail "compile -v does not report shared kernels:"$'\n'"$(cat "$TMP/stderr")"
  fi
fi
finish
