#!/usr/bin/env bash
# The optimizer flags: --optimizer, --lr, --momentum and --weight-decay
# override the file; a flag the chosen optimizer does not take names both,
# an unknown optimizer lists them, a value out of range is refused, nesterov
# without a momentum is refused (as torch.optim.SGD does); each exits 1.
# The progress line (stdout or stderr) shows the optimizer as it runs.
source "$(dirname "$0")/lib.bash"
C=$EX/churn.nn
expect_error "--momentum is not a setting of optimizer 'adam'" \
  "$NNC" train "$C" --optimizer adam --momentum 0.9 --epochs 1
expect_error "'adam' takes lr, beta1, beta2, eps, weight_decay" \
  "$NNC" train "$C" --optimizer adam --momentum 0.9 --epochs 1
expect_error "unknown optimizer 'rmsprop' in --optimizer" \
  "$NNC" train "$C" --optimizer rmsprop --epochs 1
expect_error "the optimizers are sgd, adam, adamw" \
  "$NNC" train "$C" --optimizer rmsprop --epochs 1
expect_error "--weight-decay must be non-negative" \
  "$NNC" train "$C" --weight-decay -1 --epochs 1
expect_error "--lr must be a positive number" \
  "$NNC" train "$C" --optimizer adamw --lr 0 --epochs 1
sed 's/optimizer sgd(.*)/optimizer sgd(lr = 0.1, momentum = 0.9, nesterov = true)/' \
  "$C" >"$TMP/nesterov.nn"
cp -r "$EX/data" "$TMP/data"
expect_error "nesterov needs a momentum" \
  "$NNC" train "$TMP/nesterov.nn" --momentum 0 --epochs 1
# The file's sgd becomes adam at adam's defaults (lr 0.001), --lr wins.
expect_ok "$NNC" train "$C" --optimizer adam --epochs 1
[[ $OUT$(cat "$TMP/stderr") == *"adam(lr=0.001, beta1=0.9, beta2=0.999, eps=1e-08)"* ]] ||
  fail "adam's defaults not shown: $OUT"
expect_ok "$NNC" train "$C" --optimizer adamw --lr 0.01 --epochs 1
[[ $OUT$(cat "$TMP/stderr") == *"adamw(lr=0.01, beta1=0.9, beta2=0.999, eps=1e-08, weight_decay=0.01)"* ]] ||
  fail "adamw's settings not shown: $OUT"
expect_ok "$NNC" train "$TMP/nesterov.nn" --weight-decay 1e-3 --epochs 1
[[ $OUT$(cat "$TMP/stderr") == *"sgd(lr=0.1, momentum=0.9, nesterov=true, weight_decay=0.001)"* ]] ||
  fail "the file's sgd settings and --weight-decay not shown: $OUT"
finish
