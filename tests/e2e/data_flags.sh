#!/usr/bin/env bash
# Data loaders, flags and report inputs (issue 12): CSV data under any name,
# label errors that name the file, line or sample and the value as written,
# case-insensitive column suggestions, predict on features only, several
# label columns, option values that look like options, messages with "nnc:",
# and report inputs that are not what they claim.
source "$(dirname "$0")/lib.bash"
export XDG_CACHE_HOME=$TMP/cache
B=(--backend interp)

# Weights for xor (input x: f32[2], label y: binary).
expect_ok "$NNC" train "$EX/xor.nn" --epochs 2 --quiet "${B[@]}" \
  --save "$TMP/xor.safetensors" || { finish; exit; }
W=(--weights "$TMP/xor.safetensors")

# --- CSV data under names without ".csv", or in upper case.
cp "$EX/data/xor.csv" "$TMP/data.txt"
cp "$EX/data/xor.csv" "$TMP/DATA.CSV"
for f in data.txt DATA.CSV; do
  expect_ok "$NNC" eval "$EX/xor.nn" "${W[@]}" "${B[@]}" --data "$TMP/$f" &&
    echo "ok: eval reads $f as CSV"
done
printf '\x00\x00\x08\x01\x00\x00\x00\x01\x07' >"$TMP/one-idx"
expect_error "a file, not an IDX prefix" \
  "$NNC" eval "$EX/xor.nn" "${W[@]}" "${B[@]}" --data "$TMP/one-idx"

# --- Label errors: the labels file, the 1-based sample or line, the value.
printf 'a,b,y\n0,0,0\n0,1, 4294967297\n' >"$TMP/big.csv"
expect_error "big.csv:3:5: error: label '4294967297' on line 3 is not 0 or 1" \
  "$NNC" eval "$EX/xor.nn" "${W[@]}" "${B[@]}" --data "$TMP/big.csv"
# IDX: 3 float32 samples of 2 values, labels 0, 1, 7.
{ printf '\x00\x00\x0d\x03\x00\x00\x00\x03\x00\x00\x00\x01\x00\x00\x00\x02'
  head -c 24 /dev/zero; } >"$TMP/t-images-idx3-ubyte"
printf '\x00\x00\x08\x01\x00\x00\x00\x03\x00\x01\x07' >"$TMP/t-labels-idx1-ubyte"
expect_error "t-labels-idx1-ubyte: error: label 7 of sample 3 is not 0 or 1" \
  "$NNC" eval "$EX/xor.nn" "${W[@]}" "${B[@]}" --data "$TMP/t"
# Non-finite IDX values are rejected, for eval and predict alike.
{ printf '\x00\x00\x0d\x03\x00\x00\x00\x03\x00\x00\x00\x01\x00\x00\x00\x02'
  head -c 12 /dev/zero; printf '\x7f\xc0\x00\x00'; head -c 8 /dev/zero; } \
  >"$TMP/n-images-idx3-ubyte"
cp "$TMP/t-labels-idx1-ubyte" "$TMP/n-labels-idx1-ubyte"
for cmd in eval predict; do
  expect_error "n-images-idx3-ubyte: error: non-finite value nan at value 2 of sample 2" \
    "$NNC" "$cmd" "$EX/xor.nn" "${W[@]}" "${B[@]}" --data "$TMP/n"
done

# --- A label column 'y' against a header column 'Y'.
printf 'a,b,Y\n0,0,0\n' >"$TMP/upper.csv"
expect_error "help: did you mean 'Y'?" \
  "$NNC" eval "$EX/xor.nn" "${W[@]}" "${B[@]}" --data "$TMP/upper.csv"

# --- predict on features only: no label column, an empty label field.
printf 'a,b\n0,0\n0,1\n1,1\n' >"$TMP/features.csv"
if expect_ok "$NNC" predict "$EX/xor.nn" "${W[@]}" "${B[@]}" \
    --data "$TMP/features.csv"; then
  rows=$(printf '%s\n' "$OUT" | awk -F, 'NR > 1 && NF == 4 && $4 == ""' | wc -l)
  [ "$rows" -eq 3 ] && echo "ok: predict on features only" ||
    fail "predict on features only printed: $OUT"
fi
# eval needs labels.
expect_error "features.csv:1:1: error: no column named 'y'" \
  "$NNC" eval "$EX/xor.nn" "${W[@]}" "${B[@]}" --data "$TMP/features.csv"

# --- Several label columns for a real[3] label.
cat >"$TMP/multi.nn" <<'NN'
model multi
input x : f32[2]
label y : real[3]
out = dense(x, 3)
loss mse(out, y)
train {
  data      csv("multi.csv", label = ["y0", "y1", "y2"])
  optimizer sgd(lr = 0.1)
  batch 2
  epochs 3
}
NN
printf 'y2,a,y0,b,y1\n3,1,1,2,2\n6,0,4,1,5\n9,1,7,1,8\n' >"$TMP/multi.csv"
expect_ok "$NNC" train "$TMP/multi.nn" --quiet "${B[@]}" \
  --save "$TMP/multi.safetensors" && echo "ok: real[3] from three columns"
expect_ok "$NNC" eval "$TMP/multi.nn" "${B[@]}" --data "$TMP/multi.csv" \
  --weights "$TMP/multi.safetensors" && echo "ok: eval of real[3]: $OUT"
sed 's/\["y0", "y1", "y2"\]/["y0", "y1"]/; s/f32\[2\]/f32[3]/' \
  "$TMP/multi.nn" >"$TMP/multi2.nn"
expect_error "labels have 2 values per sample, but 'y' takes 3" \
  "$NNC" train "$TMP/multi2.nn" --quiet "${B[@]}"
sed 's/\["y0", "y1", "y2"\]/["y0", 1]/' "$TMP/multi.nn" >"$TMP/multi3.nn"
expect_error "or a list of them" "$NNC" train "$TMP/multi3.nn" "${B[@]}"

# --- An option does not swallow the next option.
expect_error "option '--save' needs a value (FILE), but the next argument '--quiet' is an option" \
  "$NNC" train "$EX/xor.nn" --epochs 1 --save --quiet "${B[@]}"
expect_error "help: to give a value that starts with '--', write '--save=--quiet'" \
  "$NNC" train "$EX/xor.nn" --epochs 1 --save --quiet "${B[@]}"
[ -e ./--quiet ] && fail "a file named --quiet was written"
pushd "$TMP" >/dev/null
expect_ok "$NNC" train "$EX/xor.nn" --epochs 1 --quiet "${B[@]}" \
  --save=--quiet && [ -s "$TMP/--quiet" ] &&
  echo "ok: --save=--quiet writes that file"
popd >/dev/null
expect_error "option '-o' needs a value" \
  "$NNC" compile "$EX/xor.nn" -o --verbose

# --- A validation fraction that leaves nothing to train on.
expect_error "nnc: error: validation fraction 0.99 of 4 samples leaves no training data (it holds out 4)" \
  "$NNC" train "$EX/xor.nn" --validation 0.99 --quiet "${B[@]}"

mkdir -p "$TMP/val/data"
cp "$EX/data/xor.csv" "$TMP/val/data/"
sed 's/^  seed 1$/  seed 1\n  validation 0.99/' "$EX/xor.nn" >"$TMP/val/xor.nn"
line=$(grep -n 'validation 0.99' "$TMP/val/xor.nn" | cut -d: -f1)
expect_error "xor.nn:$line:14: error: validation fraction 0.99 of 4 samples" \
  "$NNC" train "$TMP/val/xor.nn" --quiet "${B[@]}"
expect_error "xor.nn:$line:14: help: use a validation fraction below 0.875" \
  "$NNC" train "$TMP/val/xor.nn" --quiet "${B[@]}"

# --- report: a --bench file that is not JSON, bad --metrics numbers.
echo "not json" >"$TMP/bench.txt"
expect_error "bench.txt: error: bad JSON document: unexpected" \
  "$NNC" report "$EX/xor.nn" -o "$TMP/r.html" --bench "$TMP/bench.txt"
expect_error "note: --bench takes the output of 'nnc bench MODEL --json'" \
  "$NNC" report "$EX/xor.nn" -o "$TMP/r.html" --bench "$TMP/bench.txt"
: >"$TMP/empty.json"
expect_error "empty file (expected a JSON document)" \
  "$NNC" report "$EX/xor.nn" -o "$TMP/r.html" --bench "$TMP/empty.json"
H=epoch,step,train_loss,train_accuracy,val_loss,val_accuracy,seconds
for row in "1,4,nan,0.5,nan,nan,0.1:not a number 'nan' in column 'train_loss'" \
    "1,4,0.5,inf,nan,nan,0.1:non-finite value 'inf' in column 'train_accuracy'" \
    "1,4,1e400,0.5,nan,nan,0.1:number out of range '1e400'" \
    "1,4,0.5,0.5,nan,nan,x:not a number 'x' in column 'seconds'" \
    "1,4,0.5,1.5,nan,nan,0.1:accuracy '1.5' is not in [0, 1]"; do
  printf '%s\n%s\n' "$H" "${row%%:*}" >"$TMP/m.csv"
  expect_error "m.csv:2:" \
    "$NNC" report "$EX/xor.nn" -o "$TMP/r.html" --metrics "$TMP/m.csv"
  expect_error "${row#*:}" \
    "$NNC" report "$EX/xor.nn" -o "$TMP/r.html" --metrics "$TMP/m.csv"
done
# What nnc train writes (nan where nothing is held out) still reads.
expect_ok "$NNC" train "$EX/xor.nn" --epochs 2 --quiet "${B[@]}" \
  --metrics "$TMP/good.csv"
expect_ok "$NNC" report "$EX/xor.nn" -o "$TMP/r.html" \
  --metrics "$TMP/good.csv" && echo "ok: report reads nnc train's metrics"
grep -q 'inf%' "$TMP/r.html" && fail "the report renders inf%"

# --- Encodings: UTF-16, CR-only lines.
printf '\xff\xfea\x00,\x00y\x00\n\x00' >"$TMP/u16.csv"
expect_error "u16.csv:1:1: error: the file is UTF-16" \
  "$NNC" eval "$EX/xor.nn" "${W[@]}" "${B[@]}" --data "$TMP/u16.csv"
printf 'a,b,y\r0,0,0\r0,1,1\r1,0,1\r1,1,0\r' >"$TMP/mac.csv"
expect_ok "$NNC" predict "$EX/xor.nn" "${W[@]}" "${B[@]}" --data "$TMP/mac.csv" &&
  [ "$(printf '%s\n' "$OUT" | wc -l)" -eq 5 ] &&
  echo "ok: CR-only lines are lines" || fail "CR-only file: $OUT"
finish
