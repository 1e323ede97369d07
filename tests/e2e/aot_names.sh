#!/usr/bin/env bash
# The C header of `nnc compile` names every tensor injectively: `param w`
# next to `param W`, a layer's `a.bias` next to `param a_bias`, and an input
# named like a wrapper argument (`state`) each get their own C name, so the
# compiled forward agrees with `nnc predict` (it returned 14 for 10 when two
# parameters shared a macro) and the header builds without warnings.
source "$(dirname "$0")/lib.bash"

CC=${CC:-cc}
export XDG_CACHE_HOME=$TMP/cache
if ! command -v "$CC" >/dev/null; then
  echo "SKIP: no C compiler ($CC)"
  exit 77
fi
cat >"$TMP/clash.nn" <<'NN'
model clash
input state : f32[2]
label y : real
param w : f32[2, 1] = [[1], [2]]
param W : f32[2, 1] = [[3], [4]]
param a_bias : f32 = 5
a = dense(state, 1)
loss mse(state @ w + state @ W + a + a_bias, y)
train {
  data      csv("clash.csv", label = "y")
  optimizer sgd(lr = 0.01)
  batch 3
  epochs 1
}
NN
printf 'u,v,y\n1,1,0\n0.5,-2,0\n3,0.25,0\n' >"$TMP/clash.csv"
out=$("$NNC" compile "$TMP/clash.nn" --output "$TMP/clash.o" 2>&1)
if [[ $out == *"needs the cpu backend"* ]]; then
  echo "SKIP: $out"
  exit 77
fi
[ -s "$TMP/clash.h" ] || { fail "no header: $out"; finish; exit; }

# Six state tensors (five parameters and the lr, a state leaf the caller
# may rewrite between steps), six distinct offset macros.
n=$(grep -c '^#define CLASH_.*_OFFSET ' "$TMP/clash.h")
u=$(grep '^#define CLASH_.*_OFFSET ' "$TMP/clash.h" | awk '{print $2}' |
  sort -u | wc -l)
grep -q '^#define CLASH_OPTIMIZER_LR_OFFSET ' "$TMP/clash.h" ||
  fail "no offset macro for the lr"
[ "$n" -eq 6 ] && [ "$u" -eq 6 ] && echo "ok: 6 distinct offset macros" ||
  fail "offset macros: $n defined, $u distinct: $(grep _OFFSET "$TMP/clash.h")"

cat >"$TMP/main.c" <<'C'
#include "clash.h"
#include <stdio.h>
#include <stdlib.h>
int main(void) {
  static const float x[3 * CLASH_STATE_FLOATS] = {1, 1, 0.5f, -2, 3, 0.25f};
  float *state = aligned_alloc(64, sizeof(float) * CLASH_STATE_FLOATS);
  void *arena = aligned_alloc(64, CLASH_ARENA_BYTES);
  float pred[3 * CLASH_PRED_FLOATS];
  clash_init(state, arena);
  if (clash_forward(state, x, 3, arena, pred) != 0)
    return 1;
  for (int i = 0; i < 3; ++i)
    printf("%d,%.6g\n", i, pred[i]);
  return 0;
}
C
if ! "$CC" -std=c11 -Wall -Wextra -Werror -O2 -I"$TMP" -o "$TMP/main" \
    "$TMP/main.c" "$TMP/clash.o" -lm 2>"$TMP/cc.err"; then
  fail "the header does not build cleanly: $(cat "$TMP/cc.err")"
  finish
  exit
fi
echo "ok: the header builds with -Wall -Wextra -Werror"

# nnc predict with the same first values (no training step).
expect_ok "$NNC" train "$TMP/clash.nn" --steps 0 --quiet --backend interp \
  --save "$TMP/init.safetensors" || { finish; exit; }
expect_ok "$NNC" predict "$TMP/clash.nn" --weights "$TMP/init.safetensors" \
  --backend interp --data "$TMP/clash.csv" || { finish; exit; }
printf '%s\n' "$OUT" | awk -F, 'NR > 1 { print $1 "," $2 }' >"$TMP/nnc.txt"
expect_ok "$TMP/main" || { finish; exit; }
printf '%s\n' "$OUT" >"$TMP/aot.txt"
echo "nnc predict: $(tr '\n' ' ' <"$TMP/nnc.txt")"
echo "compiled:    $(tr '\n' ' ' <"$TMP/aot.txt")"
awk -F, 'NR == FNR { want[$1] = $2; next }
  { d = $2 - want[$1]; if (d < 0) d = -d
    s = want[$1] < 0 ? -want[$1] : want[$1]
    if (!($1 in want) || d > 1e-5 * s + 1e-5) bad++; n++ }
  END { exit !(n == 3 && bad == 0) }' "$TMP/nnc.txt" "$TMP/aot.txt" &&
  echo "ok: the compiled forward agrees with nnc predict" ||
  fail "the compiled forward differs from nnc predict"
finish
