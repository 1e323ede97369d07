#!/bin/sh
# Writes a stack of N dense layers of width W with relu (default 100 x 64) to
# stdout: the compile-time benchmark of issue 15 (benchmarks/deep100.nn is
# its output for the defaults).
#   benchmarks/make_deep.sh [N] [W] > model.nn
n=${1:-100}
w=${2:-64}
echo "# $n dense layers of width $w with relu (benchmarks/make_deep.sh $n $w):"
echo "# compile time of a deep stack of equal layers (issue 15)."
echo "model deep$n"
echo
echo "input x : f32[$w]"
echo "label y : class(10)"
echo
prev=x
i=1
while [ "$i" -le "$n" ]; do
  echo "h$i = dense($prev, $w, relu)"
  prev=h$i
  i=$((i + 1))
done
echo "out = dense($prev, 10)"
echo "loss cross_entropy(softmax(out), y)"
echo
echo "train {"
echo "  optimizer sgd(lr = 0.01, momentum = 0.9)"
echo "  batch 64"
echo "  seed 1"
echo "}"
