#!/usr/bin/env bash
# Figures and files that must not lie (issue 12): the final figures are those
# of the weights saved; non-finite weights are refused wherever weights load;
# a checkpoint loads wherever weights do; --resume names weights files,
# changed models, changed settings and runs with nothing left to do; saved
# metadata counts all runs; bench and NNC_THREADS say what is wrong.
source "$(dirname "$0")/lib.bash"
PY=${PYTHON:-/usr/bin/python3}
C=$EX/churn.nn
CSV=$EX/data/churn.csv
B=(--backend interp)

# --- Early stopping: the final validation line is the restored epoch's. ----
es_model "$TMP/es.nn" 50 2
if expect_ok "$NNC" train "$TMP/es.nn" "${B[@]}" --metrics "$TMP/m.csv" \
  --checkpoint "$TMP/es.ck" --save "$TMP/es.safetensors"; then
  "$PY" - "$TMP/m.csv" "$OUT" <<'PY' || fail "validation line is not epoch 1's"
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
assert len(rows) == 3, rows
line = [l for l in sys.argv[2].splitlines() if l.startswith("validation:")][0]
want = "accuracy %.2f%%  loss %.4f" % (100 * float(rows[0]["val_accuracy"]),
                                       float(rows[0]["val_loss"]))
assert want in line, (want, line)
print("validation line is the restored epoch's:", line)
PY
fi

# --- A checkpoint with best.* tensors loads in eval, predict and --init. ----
"$PY" - "$TMP/es.ck" <<'PY' || fail "the checkpoint has no best.* tensors"
import os, sys
sys.path.insert(0, os.environ["NNC_SOURCE_DIR"] + "/tests/e2e")
from safetensors_read import read
t, _ = read(sys.argv[1])
assert any(k.startswith("best.") for k in t), sorted(t)
PY
expect_ok "$NNC" eval "$TMP/es.nn" "${B[@]}" --weights "$TMP/es.ck" --data "$CSV" &&
  [[ $OUT == eval:* ]] || fail "eval of a checkpoint: $OUT"
expect_ok "$NNC" predict "$TMP/es.nn" "${B[@]}" --weights "$TMP/es.ck" --data "$CSV" --limit 2
expect_ok "$NNC" train "$TMP/es.nn" "${B[@]}" --init "$TMP/es.ck" --epochs 1 --quiet

# --- Non-finite weights are refused, naming the tensor and the count. -------
expect_ok "$NNC" train "$C" "${B[@]}" --epochs 1 --quiet --save "$TMP/w.safetensors"
"$PY" - "$TMP/w.safetensors" "$TMP/nan.safetensors" <<'PY' || fail "cannot write NaN weights"
import json, struct, sys, zlib
blob = open(sys.argv[1], "rb").read()
(n,) = struct.unpack("<Q", blob[:8])
header = json.loads(blob[8:8 + n])
data = bytearray(blob[8 + n:])
b, _ = header["w"]["data_offsets"]
data[b:b + 4] = struct.pack("<f", float("nan"))
header["__metadata__"]["crc32"] = "%08x" % zlib.crc32(bytes(data))
text = json.dumps(header).encode()
text += b" " * (-len(text) % 8)
open(sys.argv[2], "wb").write(struct.pack("<Q", len(text)) + text + bytes(data))
PY
nanmsg="'w' holds 1 non-finite value (1 NaN, 0 inf) of 2"
expect_error "$nanmsg" "$NNC" eval "$C" "${B[@]}" --weights "$TMP/nan.safetensors" --data "$CSV"
expect_error "$nanmsg" "$NNC" predict "$C" "${B[@]}" --weights "$TMP/nan.safetensors" --data "$CSV"
expect_error "$nanmsg" "$NNC" train "$C" "${B[@]}" --init "$TMP/nan.safetensors"
expect_error "$nanmsg" "$NNC" gradcheck "$C" --init "$TMP/nan.safetensors"

# --- --resume of a weights file says so, and names an intact X.prev. --------
expect_error "this is a weights file, not a checkpoint" \
  "$NNC" train "$C" "${B[@]}" --resume "$TMP/w.safetensors"
expect_ok "$NNC" train "$C" "${B[@]}" --epochs 2 --quiet --checkpoint "$TMP/x.ck"
cp "$TMP/w.safetensors" "$TMP/x.ck" # as --checkpoint X --save X once left it
expect_error "the previous checkpoint '$TMP/x.ck.prev' is intact" \
  "$NNC" train "$C" "${B[@]}" --resume "$TMP/x.ck"

# --- Resuming with nothing left to do says so; metadata is cumulative. ------
expect_ok "$NNC" train "$C" "${B[@]}" --epochs 3 --quiet --checkpoint "$TMP/three.ck"
expect_ok "$NNC" train "$C" "${B[@]}" --epochs 2 --quiet --resume "$TMP/three.ck"
grep -q "warning: the checkpoint '$TMP/three.ck' has done 3 epochs already, and this run has 2; nothing to train" "$TMP/stderr" ||
  fail "no warning for a finished checkpoint: $(cat "$TMP/stderr")"
expect_ok "$NNC" train "$C" "${B[@]}" --epochs 5 --quiet --resume "$TMP/three.ck" \
  --save "$TMP/five.safetensors"
expect_ok "$NNC" train "$C" "${B[@]}" --epochs 5 --quiet --save "$TMP/straight5.safetensors"
"$PY" - "$TMP/five.safetensors" "$TMP/straight5.safetensors" <<'PY' || fail "metadata of a resumed run is not cumulative"
import os, sys
sys.path.insert(0, os.environ["NNC_SOURCE_DIR"] + "/tests/e2e")
from safetensors_read import read
_, a = read(sys.argv[1]); _, b = read(sys.argv[2])
assert a["epochs"] == "5" and a["epochs"] == b["epochs"], (a, b)
assert a["steps"] == b["steps"], (a, b)
print("resumed metadata:", a)
PY

# --- A checkpoint of a changed model is refused; changed settings noted. ----
sed 's/^z = x @ w + b$/z = tanh(x @ w + b)/' "$C" >"$TMP/a.nn"
sed 's/^z = x @ w + b$/z = relu(x @ w + b)/' "$C" >"$TMP/b.nn"
sed -i "s|\"data/churn.csv\"|\"$CSV\"|" "$TMP/a.nn" "$TMP/b.nn"
grep -q tanh "$TMP/a.nn" || fail "the test's model edit did not apply"
expect_ok "$NNC" train "$TMP/a.nn" "${B[@]}" --epochs 1 --quiet --checkpoint "$TMP/a.ck"
expect_error "was 'tanh(%" "$NNC" train "$TMP/b.nn" "${B[@]}" --epochs 2 --resume "$TMP/a.ck"
expect_error "error: model 'churn' has changed since this checkpoint was written" \
  "$NNC" train "$TMP/b.nn" "${B[@]}" --epochs 2 --resume "$TMP/a.ck"
# The identity is the unfused model: other fusions resume the same model.
expect_ok "$NNC" train "$TMP/a.nn" "${B[@]}" --epochs 2 --fuse none --resume "$TMP/a.ck"
expect_ok "$NNC" train "$TMP/a.nn" "${B[@]}" --epochs 2 --lr 0.05 --resume "$TMP/a.ck"
grep -q "note: resuming with learning rate 0.05; the checkpoint was trained with 0.02" "$TMP/stderr" ||
  fail "no note on the changed learning rate: $(cat "$TMP/stderr")"
expect_ok "$NNC" train "$TMP/a.nn" "${B[@]}" --epochs 2 --momentum 0.5 --resume "$TMP/a.ck"
grep -q "note: resuming with momentum 0.5; the checkpoint was trained with 0" "$TMP/stderr" ||
  fail "no note on the changed momentum: $(cat "$TMP/stderr")"

# --- --steps beyond the epochs says where it stops. -------------------------
expect_ok "$NNC" train "$C" "${B[@]}" --epochs 1 --steps 1000
grep -q "note: --steps 1000 goes beyond the recipe's 1 epoch; stopping after step 1" "$TMP/stderr" ||
  fail "no note for --steps beyond the epochs: $(cat "$TMP/stderr")"

# --- --quiet with neither validation nor test prints the training loss. -----
expect_ok "$NNC" train "$C" "${B[@]}" --epochs 2 --quiet
[[ $OUT == "train: accuracy "*"loss "* ]] || fail "--quiet printed '$OUT'"

# --- NNC_THREADS is checked as --threads is. ---------------------------------
if "$NNC" bench --help >/dev/null 2>&1; then
  expect_error "invalid value 'garbage' for NNC_THREADS" \
    env NNC_THREADS=garbage "$NNC" train "$C" --epochs 1
fi

# --- NaN help names the origin: swapped bce arguments, logits to xent. -------
sed 's/^loss bce(p, y)$/loss bce(y, p)/' "$C" >"$TMP/swap.nn"
sed -i "s|\"data/churn.csv\"|\"$CSV\"|" "$TMP/swap.nn"
expect_error "help: bce takes the probabilities first and the labels second" \
  "$NNC" train "$TMP/swap.nn" "${B[@]}" --epochs 1
# (A constant beyond f32 is a check error now; a normal initializer whose
# standard deviation is near f32's largest value draws an infinity with
# seed 1.)
sed 's/^param w : f32\[2\] = \[0.1, 0.5\]$/param w : f32[2] = normal(0, 3e38)/' "$C" >"$TMP/big.nn"
sed -i "s|\"data/churn.csv\"|\"$CSV\"|" "$TMP/big.nn"
expect_error "help: the weights held them before the step: check the initializer of 'w'" \
  "$NNC" train "$TMP/big.nn" "${B[@]}" --epochs 1 --seed 1
printf 'a,b,y\n1,2,0\n-3,1,1\n2,-2,2\n0,1,1\n' >"$TMP/cls.csv"
cat >"$TMP/xent.nn" <<NN
model xent
input x : f32[2]
label y : class(3)
param w : f32[2, 3] = [[1, -2, 3], [-1, 2, -3]]
loss cross_entropy(x @ w, y)
train {
  data csv("$TMP/cls.csv", label = "y")
  optimizer sgd(lr = 0.1)
  batch 4
  epochs 1
}
NN
expect_error "help: cross_entropy takes probabilities in [0, 1]" \
  "$NNC" train "$TMP/xent.nn" "${B[@]}"

# --- gradcheck at a kink (relu at exactly 0) is not a failure. --------------
cat >"$TMP/kink.nn" <<NN
model kink
input x : f32[2]
label y : binary
h = dense(x, 4, relu)
out = dense(h, 1)
loss bce(sigmoid(out), y)
train {
  data csv("$EX/data/xor.csv", label = "y")
  optimizer sgd(lr = 0.1)
  batch 4
  epochs 1
  seed 1
}
NN
expect_ok "$NNC" gradcheck "$TMP/kink.nn" &&
  [[ $OUT == *"at kinks)"* && $OUT == *"kink: "* && $OUT == *"passed:"* ]] ||
  fail "gradcheck at a kink: $OUT"

# --- bench: a non-finite loss is said as such, not as a disagreement. --------
if "$NNC" bench --help >/dev/null 2>&1; then
  export XDG_CACHE_HOME=$TMP/cache
  sed 's/^param w : f32\[2\] = \[0.1, 0.5\]$/param w : f32[2] = [1e38, 1e38]/; s/^loss bce(p, y)$/loss mse(z * z, y)/' "$C" >"$TMP/inf.nn"
  sed -i "s|\"data/churn.csv\"|\"$CSV\"|" "$TMP/inf.nn"
  expect_error "the loss of a step is not finite (inf with --fuse=all" \
    "$NNC" bench "$TMP/inf.nn" --fuse 'all;all' --repeats 1 --warmup 0
fi
finish
