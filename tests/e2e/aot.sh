#!/usr/bin/env bash
# Ahead-of-time compilation: `nnc compile` writes an object file and a C
# header; examples/aot/train.c links them with the system C compiler, trains
# XOR, and its loss at every step matches `nnc train` (float32 against the
# interpreter's double: 1e-4 relative), fused and unfused. A second C program trains mnist_mlp's
# step (class labels, three layers) on a fixed batch. Bad flags are errors.
source "$(dirname "$0")/lib.bash"

CC=${CC:-cc}
export XDG_CACHE_HOME=$TMP/cache # nnc train on the cpu backend caches here
if ! command -v "$CC" >/dev/null; then
  echo "SKIP: no C compiler ($CC)"
  exit 0
fi
out=$("$NNC" compile "$EX/xor.nn" --output "$TMP/xor.o" 2>&1)
if [[ $out == *"needs the cpu backend"* ]]; then
  echo "SKIP: $out"
  exit 0
fi

# --- XOR: the example program, fused and unfused, checked step by step
# against nnc train (one batch an epoch).
expect_ok "$NNC" train "$EX/xor.nn" --no-shuffle --quiet \
  --metrics "$TMP/metrics.csv"
for fuse in all none; do
  D=$TMP/$fuse
  mkdir -p "$D"
  expect_ok "$NNC" compile "$EX/xor.nn" --output "$D/xor.o" --fuse "$fuse" ||
    continue
  echo "$OUT"
  [ -s "$D/xor.o" ] || fail "no object file (--fuse=$fuse)"
  [ -s "$D/xor.h" ] || fail "no header next to the object file"
  grep -q "XOR_ARENA_BYTES" "$D/xor.h" || fail "header lacks the arena size"
  if ! "$CC" -std=c11 -Wall -Wextra -Werror -O2 -I"$D" -o "$D/train" \
      "$NNC_SOURCE_DIR/examples/aot/train.c" "$D/xor.o" -lm 2>"$TMP/cc.err"; then
    fail "train.c does not build (--fuse=$fuse): $(cat "$TMP/cc.err")"
    continue
  fi
  echo "ok: train.c builds and links against xor.o (--fuse=$fuse)"
  expect_ok "$D/train" 300 1 || continue
  printf '%s\n' "$OUT" >"$D/aot.txt"
  tail -5 "$D/aot.txt"
  [[ $OUT == *"accuracy 4/4"* ]] || fail "the AOT program did not learn XOR"
  awk '
    NR == FNR { if ($1 == "step") aot[$2] = $4; next }
    FNR > 1 {
      n++
      if (!($2 in aot)) { print "missing step " $2; bad++; next }
      d = aot[$2] - $3; if (d < 0) d = -d
      s = $3 < 0 ? -$3 : $3
      if (d > 1e-4 * s + 1e-7) { print "step " $2 ": aot " aot[$2] ", nnc " $3; bad++ }
      if ($2 == 1) first = $3
      last = $3
    }
    END {
      if (n != 300) { print "nnc train ran " n " steps, not 300"; bad++ }
      if (!(last < first / 10)) { print "loss did not fall: " first " -> " last; bad++ }
      exit bad > 0
    }' FS='[ ,]' "$D/aot.txt" FS=, "$TMP/metrics.csv" >"$D/cmp.txt" &&
    echo "ok: 300 steps match nnc train to 1e-4 (--fuse=$fuse)" ||
    fail "AOT losses differ from nnc train (--fuse=$fuse): $(head -5 "$D/cmp.txt")"
done

# --- mnist_mlp: class labels, three layers, batch 8 of at most 16.
expect_ok "$NNC" compile "$EX/mnist_mlp.nn" --output "$TMP/mnist.o" \
  --header "$TMP/mnist_model.h" --max-batch 16
cat >"$TMP/mnist.c" <<'C'
#include "mnist_model.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
int main(void) {
  float *state = aligned_alloc(64, sizeof(float) * MNIST_MLP_STATE_FLOATS);
  void *arena = aligned_alloc(64, MNIST_MLP_ARENA_BYTES);
  static float x[8 * MNIST_MLP_X_FLOATS], y[8], pred[8 * MNIST_MLP_PRED_FLOATS];
  for (int i = 0; i < 8 * MNIST_MLP_X_FLOATS; ++i)
    x[i] = (float)((i * 37 + 11) % 101) / 101.0f;
  for (int i = 0; i < 8; ++i)
    y[i] = (float)(i % 10);
  mnist_mlp_init(state, arena);
  float first = 0, loss = 0;
  for (int step = 0; step < 30; ++step) {
    if (mnist_mlp_train_step(state, x, y, 8, arena, &loss) != 0)
      return 1;
    if (step == 0)
      first = loss;
  }
  if (mnist_mlp_train_step(state, x, y, MNIST_MLP_MAX_BATCH + 1, arena, &loss) != -1)
    return 2;
  mnist_mlp_forward(state, x, 8, arena, pred);
  double rowsum = 0;
  for (int c = 0; c < MNIST_MLP_PRED_FLOATS; ++c)
    rowsum += pred[c];
  printf("first %g last %g rowsum %g\n", first, loss, rowsum);
  return !(isfinite(first) && loss < first / 2 && fabs(rowsum - 1) < 1e-4);
}
C
if "$CC" -std=c11 -Wall -O2 -I"$TMP" -o "$TMP/mnist" "$TMP/mnist.c" \
    "$TMP/mnist.o" -lm 2>"$TMP/cc.err"; then
  expect_ok "$TMP/mnist" && echo "ok: mnist_mlp from C: $OUT"
else
  fail "mnist.c does not build: $(cat "$TMP/cc.err")"
fi

# --- Errors.
expect_error "--max-batch must be between 1" \
  "$NNC" compile "$EX/xor.nn" --output "$TMP/e.o" --max-batch 0
expect_error "are the same file" \
  "$NNC" compile "$EX/xor.nn" --output "$TMP/e.o" --header "$TMP/e.o"
expect_error "--opt-level must be" \
  "$NNC" compile "$EX/xor.nn" --output "$TMP/e.o" --opt-level 7
expect_error "cannot write" \
  "$NNC" compile "$EX/xor.nn" --output "$TMP/no/such/dir/e.o"
expect_error "unknown fusion 'dens'" \
  "$NNC" compile "$EX/xor.nn" --output "$TMP/e.o" --fuse dens
expect_error "cannot open file" "$NNC" compile "$TMP/missing.nn"
finish
