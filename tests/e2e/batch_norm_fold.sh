#!/usr/bin/env bash
# Batch norm folded into its convolution (passes/FuseConv.cpp) changes no
# result: `nnc eval` and `nnc predict` of fashion_cnn (conv + relu -> batch
# norm) and resnet_small (conv -> batch norm -> relu), their batch norms
# folded (the default) and not (--fuse=none: the evaluation graph as it ran
# before the fold), on the CPU backend (and predict on the interpreter),
# from weights trained a few steps (so the running statistics have moved):
# the same predicted classes and accuracy, the same probabilities to 1e-5
# and the same printed loss (to its last digit).
source "$(dirname "$0")/lib.bash"
DATA=$NNC_SOURCE_DIR/tests/data/fashion-tiny
for model in fashion_cnn resnet_small; do
  M=$NNC_SOURCE_DIR/examples/$model.nn
  W=$TMP/$model.safetensors
  expect_ok "$NNC" train "$M" --backend cpu --steps 3 --batch 16 \
    --validation 0 --data "$DATA" --test "$DATA" --quiet --save "$W" ||
    continue
  for backend in cpu interp; do
    # The interpreter (double, naive loops) predicts 16 rows and skips eval.
    limit=48
    [ $backend = interp ] && limit=16
    for fuse in all none; do
      run=$TMP/$model.$backend.$fuse
      expect_ok "$NNC" predict "$M" --backend $backend --fuse $fuse \
        --data "$DATA" --limit $limit --weights "$W" || continue
      echo "$OUT" >"$run.predict.csv"
      [ $backend = interp ] && continue
      expect_ok "$NNC" eval "$M" --backend $backend --fuse $fuse \
        --data "$DATA" --weights "$W" || continue
      echo "$OUT" >"$run.eval.txt"
    done
    a=$TMP/$model.$backend.all b=$TMP/$model.$backend.none
    [ -s "$a.predict.csv" ] && [ -s "$b.predict.csv" ] || continue
    echo "== $model, $backend: folded against unfolded"
    # row,prediction,probability,label: the same rows, classes and labels;
    # probabilities within 1e-5.
    awk -F, 'NR == FNR { p[FNR] = $0; next }
      FNR > 1 {
        split(p[FNR], q, ",")
        if (q[1] != $1 || q[2] != $2 || q[4] != $4) { bad++; next }
        d = q[3] - $3; if (d < 0) d = -d
        if (d > 1e-5) bad++
        if (d > most) most = d
      }
      END { printf "  %d rows, most |dp| %.2g\n", FNR - 1, most; exit bad > 0 }' \
      "$a.predict.csv" "$b.predict.csv" ||
      fail "$model ($backend): folded predictions differ from unfolded"
    [ $backend = interp ] && continue
    # The eval line: the accuracy exactly, the loss (printed to 4 decimals)
    # to one unit of its last digit.
    python3 - "$a.eval.txt" "$b.eval.txt" <<'PY' ||
import re, sys
def metrics(path):
    text = open(path).read()
    return {k: float(v) for k, v in re.findall(r"(\w+)[ =:]+([-0-9.e]+)", text)}
a, b = metrics(sys.argv[1]), metrics(sys.argv[2])
print("  eval folded:  ", open(sys.argv[1]).read().strip())
print("  eval unfolded:", open(sys.argv[2]).read().strip())
assert a.keys() == b.keys() and a, (a, b)
for k in a:
    tol = 1.0001e-4 if k == "loss" else 0
    assert abs(a[k] - b[k]) <= tol, (k, a[k], b[k])
PY
      fail "$model ($backend): folded eval differs from unfolded"
  done
done
# A bad --fuse of eval and predict is a usage error, as train's.
for cmd in eval predict; do
  expect_error "unknown fusion 'dens' in --fuse (did you mean 'dense'?)" \
    "$NNC" $cmd "$NNC_SOURCE_DIR/examples/fashion_cnn.nn" --fuse dens \
    --data "$DATA" --weights "$TMP/fashion_cnn.safetensors"
done
finish
