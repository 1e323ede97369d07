#!/usr/bin/env bash
# nnc data (issue 17): the Playground's 2-D data sets from a seed. The same
# flags write the same bytes; the files in examples/data are what the
# command in their model's comment makes; bad flags fail with a message and
# leave no file; spirals.nn and circles.nn learn their data (>= 95% of the
# training points, by nnc eval on the training file).
source "$(dirname "$0")/lib.bash"
export XDG_CACHE_HOME=$TMP/cache

# --- The same flags, the same bytes; another seed, other points.
for kind in circles spirals gaussians xor; do
  for run in a b; do
    expect_ok "$NNC" data "$kind" --samples 300 --noise 0.2 --seed 7 \
      -o "$TMP/$kind-$run.csv"
  done
  cmp -s "$TMP/$kind-a.csv" "$TMP/$kind-b.csv" &&
    echo "ok: $kind: the same bytes twice" ||
    fail "$kind: two runs with the same flags differ"
  expect_ok "$NNC" data "$kind" --samples 300 --noise 0.2 --seed 8 \
    -o "$TMP/$kind-c.csv"
  cmp -s "$TMP/$kind-a.csv" "$TMP/$kind-c.csv" &&
    fail "$kind: seeds 7 and 8 gave the same file" ||
    echo "ok: $kind: another seed, other points"
  head -1 "$TMP/$kind-a.csv" | grep -qx 'x1,x2,y' ||
    fail "$kind: header is not x1,x2,y"
  rows=$(($(wc -l <"$TMP/$kind-a.csv") - 1))
  ones=$(awk -F, 'NR > 1 && $3 == 1' "$TMP/$kind-a.csv" | wc -l)
  [ "$rows" -eq 300 ] && [ "$ones" -eq 150 ] &&
    echo "ok: $kind: 300 rows, 150 of label 1" ||
    fail "$kind: $rows rows, $ones of label 1 (want 300, 150)"
done

# --- The checked-in data: each model's comment names the command.
for model in spirals circles; do
  line=$(grep -o 'nnc data .*' "$EX/$model.nn")
  read -ra argv <<<"${line#nnc }"
  [[ "${argv[*]}" == *"-o examples/data/$model.csv"* ]] ||
    fail "$model.nn: the command writes elsewhere: $line"
  argv=("${argv[@]/#examples\/data\/$model.csv/$TMP/doc-$model.csv}")
  expect_ok "$NNC" "${argv[@]}" &&
    cmp "$TMP/doc-$model.csv" "$EX/data/$model.csv" &&
    echo "ok: examples/data/$model.csv is what '$line' writes" ||
    fail "examples/data/$model.csv differs from what '$line' writes"
done

# --- Bad flags: exit 1, a message, no file written, an old file untouched.
D=(data circles --samples 10)
expect_error "nnc data needs the kind of data set: circles, spirals" \
  "$NNC" data -o "$TMP/x.csv"
expect_error "unknown data set 'spiral'; did you mean 'spirals'?" \
  "$NNC" data spiral -o "$TMP/x.csv"
expect_error "unexpected argument 'xor'" "$NNC" data circles xor -o "$TMP/x.csv"
expect_error "--samples must be from 2" "$NNC" data circles --samples 0 \
  -o "$TMP/x.csv"
expect_error "invalid value 'ten' for --samples: expected an integer" \
  "$NNC" data circles --samples ten -o "$TMP/x.csv"
expect_error "--noise must be from 0 to 100" "$NNC" "${D[@]}" --noise -0.1 \
  -o "$TMP/x.csv"
expect_error "--noise must be from 0 to 100" "$NNC" "${D[@]}" --noise inf \
  -o "$TMP/x.csv"
expect_error "--seed must not be negative" "$NNC" "${D[@]}" --seed -1 \
  -o "$TMP/x.csv"
expect_error "nnc data needs -o FILE.csv" "$NNC" "${D[@]}"
expect_error "unknown option '--sample'; did you mean '--samples'?" \
  "$NNC" data circles --sample 10 -o "$TMP/x.csv"
expect_error "$TMP/no/such/dir/x.csv: error: cannot write the data" \
  "$NNC" "${D[@]}" -o "$TMP/no/such/dir/x.csv"
expect_error "is a directory" "$NNC" "${D[@]}" -o "$TMP"
[ -e "$TMP/x.csv" ] && fail "a failed nnc data left $TMP/x.csv" ||
  echo "ok: failed runs wrote nothing"
echo keep >"$TMP/old.csv"
expect_error "--samples must be from 2" "$NNC" data circles --samples 0 \
  -o "$TMP/old.csv"
[ "$(cat "$TMP/old.csv")" = keep ] && echo "ok: the old file is untouched" ||
  fail "a failed nnc data changed an existing file"
expect_ok "$NNC" data --help
[[ $OUT == *"usage: nnc data circles|spirals|gaussians|xor"* ]] &&
  echo "ok: --help" || fail "nnc data --help: $OUT"

# --- The examples learn their data (accuracy of the saved weights on the
# training file: every point counted, after training).
for model in spirals circles; do
  expect_ok "$NNC" train "$EX/$model.nn" --quiet \
    --save "$TMP/$model.safetensors" || continue
  expect_ok "$NNC" eval "$EX/$model.nn" --weights "$TMP/$model.safetensors" \
    --data "$EX/data/$model.csv" || continue
  acc=$(sed -n 's/.*accuracy \([0-9.]*\)%.*/\1/p' <<<"$OUT")
  awk -v a="$acc" 'BEGIN { exit !(a >= 95) }' &&
    echo "ok: $model.nn: $acc% of its training points" ||
    fail "$model.nn reaches $acc% of its training points (want >= 95%): $OUT"
done
finish
