#!/usr/bin/env bash
# Models that `nnc check` used to pass and training then crashed on (or
# trained on a loss that mixed the samples of a batch), and frontend and
# flag messages (issue 12). Every model error is reported by `check`, exit 1,
# located; `train`, `gradcheck` and `emit --stage=grad` report the same error
# once, with the source line, and never reach an internal error.
source "$(dirname "$0")/lib.bash"

HEAD=$'input x : f32[2]\nparam w : f32[2]\n'
printf 'a,b,y\n1,2,0\n3,4,1\n1,1,1\n0,2,0\n' >"$TMP/d.csv"

# model NAME TEXT: writes $TMP/NAME.nn
model() { printf '%s' "$2" >"$TMP/$1.nn"; }

# expect_model_error NAME LINE:COL MESSAGE: check exits 1 with MESSAGE at
# NAME.nn:LINE:COL; train, gradcheck and emit --stage=grad exit 1 with it
# once, the source line under it, and no internal error.
expect_model_error() {
  local f=$TMP/$1.nn where=$2 msg=$3
  expect_error "$1.nn:$where: error: $msg" "$NNC" check "$f"
  local cmd out rc
  for cmd in "train --data $TMP/d.csv --steps 1" gradcheck "emit --stage=grad"; do
    # shellcheck disable=SC2086
    out=$("$NNC" $cmd "$f" 2>&1 >/dev/null)
    rc=$?
    local count
    count=$(grep -c -F -- "error: $msg" <<<"$out")
    if [ "$rc" -ne 1 ] || [[ $out == *"internal error"* ]]; then
      fail "$cmd $1.nn: exit $rc"$'\n'"$out"
    elif [ "$count" -ne 1 ]; then
      fail "$cmd $1.nn: the error is printed $count times"$'\n'"$out"
    elif [[ $out != *"$1.nn:$where: error: $msg"*$'\n  '* ]]; then
      fail "$cmd $1.nn: no located error with its source line"$'\n'"$out"
    else
      echo "ok: $cmd $1.nn"
    fi
  done
}

# Class ids into a loss that needs real targets.
model mse_class "$HEAD"$'label y : class(2)\nloss mse(x @ w, y)\n'
expect_model_error mse_class 4:6 "'mse' needs f32 targets, got class ids i32[N]"
model bce_class "$HEAD"$'label y : class(2)\nloss bce(sigmoid(x @ w), y)\n'
expect_model_error bce_class 4:6 "'bce' needs f32 targets, got class ids i32[N]"
model dense_class "$HEAD"$'label y : class(2)\nout = dense(x, 1)\nloss mse(out, y)\n'
expect_model_error dense_class 5:6 "'mse' needs f32 targets, got class ids i32[N]"

# Values that mix the samples of a batch.
model pairs "$HEAD"$'label y : real\nout = dense(x, 1)\nd = out - y\nloss mse(d, 0 * d)\n'
expect_model_error pairs 5:9 "'-' would broadcast the batch axis of f32[N] against another axis"
model softmax_batch "$HEAD"$'label y : binary\nloss bce(softmax(x @ w), y)\n'
expect_model_error softmax_batch 4:10 "'softmax' of f32[N] normalises across the samples of a batch"
model center "$HEAD"$'label y : binary\nc = x - mean(x, axis = 0)\nloss bce(sigmoid(c @ w), y)\n'
expect_model_error center 4:9 "'mean' over the batch axis of f32[N,2] mixes the samples"
model total "$HEAD"$'label y : binary\nloss bce(sigmoid(x @ w - sum(x @ w)), y)\n'
expect_model_error total 4:26 "'sum' over all axes of f32[N] mixes the samples"

# What autodiff rejects, check reports first.
model nonscalar "$HEAD"$'label y : binary\nparam z : f32[3]\nloss bce(sigmoid(x @ w), y) + z\n'
expect_model_error nonscalar 5:29 "the loss must be a scalar, got f32[3]"
model axis2 "$HEAD"$'label y : binary\nparam v : f32[2, 3, 4]\nloss bce(sigmoid(x @ w), y) + sum(sum(v, axis = 2))\n'
expect_model_error axis2 5:35 "training cannot differentiate 'sum'"

# Legitimate models still check, and batch reductions in the loss's own
# arithmetic are allowed.
model loss_terms "$HEAD"$'label y : binary\nloss bce(sigmoid(x @ w), y) + 0.01 * mean(x @ w)\n'
expect_ok "$NNC" check "$TMP/loss_terms.nn" && echo "ok: loss terms"
expect_ok "$NNC" train "$TMP/loss_terms.nn" --data "$TMP/d.csv" --steps 2 && echo "ok: trains"
for f in "$EX"/*.nn "$NNC_SOURCE_DIR"/benchmarks/*.nn; do
  expect_ok "$NNC" check "$f" && echo "ok: $(basename "$f")"
done

# train feeds one input and one label; check warns (compile takes more).
model two_inputs $'input x : f32[2]\ninput z : f32[2]\nlabel y : binary\nparam w : f32[2]\nloss bce(sigmoid(x @ w + z @ w), y)\n'
if expect_ok "$NNC" check "$TMP/two_inputs.nn" &&
  grep -q "two_inputs.nn:2:7: warning: 'nnc train' needs exactly one input declaration; this model has 2" "$TMP/stderr"; then
  echo "ok: check warns of two inputs"
else
  fail "check of two inputs:"$'\n'"$(cat "$TMP/stderr")"
fi

# A UTF-8 byte order mark is accepted.
printf '\xef\xbb\xbf' >"$TMP/bom.nn"
printf '%s' "$HEAD"$'label y : binary\nloss bce(sigmoid(x @ w), y)\n' >>"$TMP/bom.nn"
expect_ok "$NNC" check "$TMP/bom.nn" && echo "ok: BOM"
printf '\xef\xbb\xbfinput x : f32[2] $\n' >"$TMP/bom2.nn"
expect_error "bom2.nn:1:18: error: unexpected character '\$'" "$NNC" check "$TMP/bom2.nn"

# Numbers out of range.
train=$'label y : binary\nloss bce(sigmoid(x @ w), y)\ntrain {\n'
model seed "$HEAD$train"$'  seed 18446744073709551615\n}\n'
expect_error "seed.nn:6:8: error: seed must be a whole number from 0 to 1000000000000000" \
  "$NNC" check "$TMP/seed.nn"
model epochs "$HEAD$train"$'  epochs 99999999999999999999\n}\n'
expect_error "number of epochs must be a whole number from 1 to 1000000000000000" \
  "$NNC" check "$TMP/epochs.nn"
expect_error "invalid value '18446744073709551615' for --seed: out of range (an integer from" \
  "$NNC" train "$EX/xor.nn" --seed 18446744073709551615 --steps 1
model f32big $'input x : f32[2]\nparam w : f32[2] = [1e39, 1]\nlabel y : binary\nloss bce(sigmoid(x @ w), y)\n'
expect_error "f32big.nn:2:21: error: value is out of range for f32" "$NNC" check "$TMP/f32big.nn"
model constbig "$HEAD"$'label y : binary\nloss bce(sigmoid(x @ w * -1e39), y)\n'
expect_error "value is out of range for f32" "$NNC" check "$TMP/constbig.nn"
model lexbig $'input x : f32[2]\nparam w : f32[2] = [1e400, 1]\nlabel y : binary\nloss bce(sigmoid(x @ w), y)\n'
expect_error "number '1e400' is out of range" "$NNC" check "$TMP/lexbig.nn"

# dense of a named input whose shape is unknown: the reason, not "bind the
# input to a name".
model dense_named "$HEAD"$'label y : binary\nparam v : f32[3]\nh = x + v\nd = dense(h, 1)\nloss bce(sigmoid(d), y)\n'
out=$("$NNC" check "$TMP/dense_named.nn" 2>&1)
if [[ $out != *"cannot tell the width of the input of 'dense'"* ||
  $out != *"dense_named.nn:5:7: note: its shape is unknown: cannot broadcast f32[N,2] and f32[3]"* ||
  $out == *"bind the input to a name"* ]]; then
  fail "dense of a named input:"$'\n'"$out"
else
  echo "ok: dense of a named input"
fi

# Flags.
X=$EX/xor.nn
expect_error "'all' cannot be part of a list in --fuse" "$NNC" emit "$X" --stage=fused --fuse all,none
expect_error "'none' cannot be part of a list in --fuse" "$NNC" emit "$X" --stage=fused --fuse dense,none
expect_error "nnc: error: empty --fuse; fusions: all, none, conv, dense-grad" "$NNC" emit "$X" --stage=fused --fuse ''
expect_error "empty fusion name in --fuse 'dense,'" "$NNC" emit "$X" --stage=fused --fuse dense,
expect_error "unknown pass 'bogus' in --print-after; passes: infer-shapes, stable-losses" \
  "$NNC" emit "$X" --print-after bogus

finish
