#!/usr/bin/env bash
# examples/mnist_mlp.nn learns Fashion-MNIST: three epochs over the full
# training set (60,000 images, nothing held out) on the reference
# interpreter reach at least 85% accuracy on the 10,000 test images.
# Skips when the Debian package dataset-fashion-mnist is missing.
source "$(dirname "$0")/lib.bash"
if [ ! -e "$FMNIST/train-images-idx3-ubyte.gz" ]; then
  echo "SKIP: Fashion-MNIST is not installed (Debian dataset-fashion-mnist)"
  exit 0
fi
expect_ok "$NNC" train "$EX/mnist_mlp.nn" --epochs 3 --validation 0 ${NNC_BACKEND:+--backend=$NNC_BACKEND}
cat "$TMP/stderr"
echo "$OUT"
acc=$(sed -n 's/^test: accuracy \([0-9.]*\)%.*/\1/p' <<<"$OUT")
[ -n "$acc" ] || fail "no test accuracy in the output"
awk -v a="$acc" 'BEGIN { exit !(a >= 85) }' || fail "test accuracy $acc% is below 85%"
finish
