#!/usr/bin/env bash
# The lecture's churn neuron (w = [0.1, 0.5], b = 0.4) on its five users,
# computed from the formula, not copied from the lecture's table (which is
# not computed from its own formula): mean BCE 3.6709; user B p = sigmoid(4.2).
# Then one gradient-descent step, checked against the formula by hand.
source "$(dirname "$0")/lib.bash"
CSV=$EX/data/churn.csv

expect_ok "$NNC" train "$EX/churn.nn" --steps 0 --quiet --save "$TMP/init.safetensors"
expect_ok "$NNC" eval "$EX/churn.nn" --weights "$TMP/init.safetensors" --data "$CSV"
echo "$OUT"
[[ $OUT == *"loss 3.6709"* ]] || fail "mean BCE at the start weights should be 3.6709: $OUT"

expect_ok "$NNC" predict "$EX/churn.nn" --weights "$TMP/init.safetensors" --data "$CSV"
echo "$OUT"
# user B (row 1): z = 0.4 + 0.1*8 + 0.5*6 = 4.2, p = 1/(1+exp(-4.2))
[[ $OUT == *$'\n'"1,1,0.985226,0"* ]] || fail "user B should get p = 0.985226"
# user E (row 4): z = 1.9, p = 0.869892
[[ $OUT == *$'\n'"4,1,0.869892,0"* ]] || fail "user E should get p = 0.869892"

# One step of gradient descent, lr 0.02, batch = all five users:
#   dL/db = mean(p - y),  dL/dw_j = mean((p - y) * x_j),  b_new = b - lr * dL/db
expect_ok "$NNC" train "$EX/churn.nn" --steps 1 --quiet --no-shuffle \
  --save "$TMP/step1.safetensors"
/usr/bin/python3 - "$TMP/step1.safetensors" "$CSV" <<'PY' || fail "one SGD step"
import csv, math, os, sys
sys.path.insert(0, os.environ["NNC_SOURCE_DIR"] + "/tests/e2e")
from safetensors_read import read
rows = [tuple(map(float, r)) for r in list(csv.reader(open(sys.argv[2])))[1:]]
w, b, lr = [0.1, 0.5], 0.4, 0.02
p = [1 / (1 + math.exp(-(b + w[0] * h + w[1] * d))) for h, d, _ in rows]
g = [pi - y for pi, (_, _, y) in zip(p, rows)]
db = sum(g) / len(rows)
dw = [sum(gi * r[j] for gi, r in zip(g, rows)) / len(rows) for j in range(2)]
want = {"b": [b - lr * db], "w": [w[j] - lr * dw[j] for j in range(2)]}
got, _ = read(sys.argv[1])
print("dL/db = %.6f, b: 0.4 - 0.02 x %.6f = %.6f" % (db, db, want["b"][0]))
for name, vals in want.items():
    for a, e in zip(got[name][1], vals):
        assert abs(a - e) <= 1e-6 * max(1, abs(e)), (name, a, e)
print("one SGD step matches the formula")
PY
finish
