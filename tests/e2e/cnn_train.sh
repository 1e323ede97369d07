#!/usr/bin/env bash
# CNNs end to end on the interpreter: 4x4 images from CSV rows, reshaped
# to [N,1,4,4] (conv_tiny.nn trains; a 2x2 kernel learns bars); fashion_cnn.nn
# takes IDX images as [N,1,28,28], trains two steps, writes its batch norm's
# running statistics as PyTorch names and shapes them, and its weights
# evaluate and predict; data of another sample size is a clear error.
source "$(dirname "$0")/lib.bash"
DATA=$NNC_SOURCE_DIR/tests/data/fashion-tiny

# conv_tiny (the teaching views' example) trains and evaluates from its CSV.
expect_ok "$NNC" train "$EX/conv_tiny.nn" --backend=interp --quiet \
  --save "$TMP/tiny.safetensors"
expect_ok "$NNC" eval "$EX/conv_tiny.nn" --backend=interp \
  --weights "$TMP/tiny.safetensors" --data "$EX/data/conv_tiny.csv"
[[ $OUT == *"(8 samples)"* ]] || fail "conv_tiny eval: $OUT"

# A 2x2 kernel learns to tell vertical bars from horizontal ones (rows and
# columns 1 and 2 of a 4x4 image, given as CSV rows of 16 values).
"${PYTHON:-python3}" - "$TMP/bars.csv" <<'PY'
import sys
rows = ["p%d%d" % (r, c) for r in range(4) for c in range(4)] + ["bar"]
out = [",".join(rows)]
for k, (pos, top) in enumerate([(1, 0.9), (2, 0.8), (1, 0.6), (2, 0.7)]):
    for label in (1, 0):
        img = [[0.01 * ((r * 4 + c + 3 * k) % 16) for c in range(4)]
               for r in range(4)]
        for i in range(4):
            r, c = (i, pos) if label else (pos, i)
            img[r][c] = top - 0.05 * i
        out.append(",".join("%g" % v for row in img for v in row) + ",%d" % label)
open(sys.argv[1], "w").write("\n".join(out) + "\n")
PY
cat > "$TMP/bars.nn" <<'NN'
input x : f32[1, 4, 4]
label y : binary
c = conv2d(x, 1, kernel = 2)
p = maxpool2d(c, 2, stride = 1)
z = dense(flatten(p), 1)
loss bce(sigmoid(z), y)
train { data csv("bars.csv", label = "bar")  optimizer sgd(lr = 0.3)  batch 4  epochs 60  seed 1 }
NN
expect_ok "$NNC" train "$TMP/bars.nn" --backend=interp --quiet \
  --save "$TMP/bars.safetensors"
expect_ok "$NNC" eval "$TMP/bars.nn" --backend=interp \
  --weights "$TMP/bars.safetensors" --data "$TMP/bars.csv"
echo "bars: $OUT"
[[ $OUT == *"accuracy 100.00%"* ]] || fail "the bars model did not learn: $OUT"

expect_ok "$NNC" train "$EX/fashion_cnn.nn" --backend=interp --data "$DATA" \
  --test "$DATA" --validation 0 --batch 8 --steps 2 --quiet \
  --save "$TMP/cnn.safetensors"
"${PYTHON:-python3}" -c '
import sys
sys.path.insert(0, sys.argv[1])
from safetensors_read import read
t, _ = read(sys.argv[2])
want = {"c1.weight": [32, 1, 3, 3], "c1.bias": [32], "b1.weight": [32],
        "b1.bias": [32], "b1.running_mean": [32], "b1.running_var": [32],
        "b1.num_batches_tracked": [], "c2.weight": [64, 32, 3, 3],
        "h.weight": [128, 3136], "out.weight": [10, 128]}
for name, shape in want.items():
    assert t[name][0] == shape, (name, t[name][0], shape)
assert t["b1.num_batches_tracked"][1] == [2.0], t["b1.num_batches_tracked"]
mean, var = t["b1.running_mean"][1], t["b1.running_var"][1]
# Two updates from zeros and ones: the mean of relu outputs is >= 0 (0 for
# a channel dead on both batches), and the variance moved away from 1.
assert all(m >= 0 for m in mean) and sum(mean) > 0, mean
assert all(v != 1.0 for v in var), var
print("fashion_cnn weights: ok (running statistics after 2 steps)")
' "$(dirname "$0")" "$TMP/cnn.safetensors" || fail "fashion_cnn's saved weights"

expect_ok "$NNC" eval "$EX/fashion_cnn.nn" --backend=interp \
  --weights "$TMP/cnn.safetensors" --data "$DATA"
[[ $OUT == *"(256 samples)"* ]] || fail "fashion_cnn eval: $OUT"
expect_ok "$NNC" predict "$EX/fashion_cnn.nn" --backend=interp \
  --weights "$TMP/cnn.safetensors" --data "$DATA" --limit 3
[[ $(wc -l <<<"$OUT") == 4 ]] || fail "fashion_cnn predict: $OUT"

expect_error "samples have 16 values, but input 'x'" "$NNC" predict \
  "$EX/fashion_cnn.nn" --backend=interp --weights "$TMP/cnn.safetensors" \
  --data "$EX/data/conv_tiny.csv"
expect_error "takes 784 (1 x 28 x 28)" "$NNC" eval "$EX/fashion_cnn.nn" \
  --backend=interp --weights "$TMP/cnn.safetensors" \
  --data "$EX/data/conv_tiny.csv"
finish
