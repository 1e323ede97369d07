#!/usr/bin/env bash
# Each process of a data-parallel run reads only its shard of the test data
# (docs/distributed.md, "Data"): with NNC_DEBUG_DATA=1 every process says on
# stderr which rows of which file it read. With 2 and 3 processes, on plain
# IDX, gzipped IDX and CSV test data: rank r reads rows shardRange(n, N, r)
# of the test file and every row of the training file (shuffling and the
# validation split take rows from anywhere), and the test metrics are those
# of one process to the printed digit.
source "$(dirname "$0")/lib.bash"
source "$(dirname "$0")/mpi.bash"

mkdir "$TMP/plain"
for part in images-idx3 labels-idx1; do
  gzip -dc "$DATA-$part-ubyte.gz" >"$TMP/plain/tiny-$part-ubyte"
done

# rows_read FILE: "rank R: [B, E) of N of NAME" for each debug line, sorted.
rows_read() {
  sed -n "s/^nnc: data: rank \([0-9]*\) of [0-9]* read rows \(\[[0-9]*, [0-9]*)\) of \([0-9]*\) of '.*\/\([^/']*\)'.*/rank \1: \2 of \3 of \4/p" \
    "$1" | LC_ALL=C sort
}

# check WHAT NP EXPECTED MODEL ARGS...: NP processes read the rows EXPECTED
# (lines of rows_read, in any order) and print the test line one process
# prints.
check() {
  local what=$1 np=$2 want
  want=$(LC_ALL=C sort <<<"$3")
  shift 3
  NNC_DEBUG_DATA=1 mpi "$np" train "$@" >"$TMP/many.txt" 2>"$TMP/many.err" ||
    { fail "$what, $np processes: $(cat "$TMP/many.err")"; return; }
  "$NNC" train "$@" >"$TMP/one.txt" 2>&1 ||
    { fail "$what, 1 process: $(cat "$TMP/one.txt")"; return; }
  local got
  got=$(rows_read "$TMP/many.err")
  if [ "$got" == "$want" ]; then
    echo "ok: $what, $np processes: each read its test rows"
  else
    fail "$what, $np processes: rows read:"$'\n'"$got"$'\n'"want:"$'\n'"$want"
  fi
  local one many
  one=$(grep "^test:" "$TMP/one.txt")
  many=$(grep "^test:" "$TMP/many.txt")
  if [ -n "$one" ] && [ "$one" == "$many" ]; then
    echo "ok: $what, $np processes: $many"
  else
    fail "$what, $np processes: test metrics '$many', one process '$one'"
  fi
}

# whole NP N NAME: every one of NP ranks reads all N rows of NAME (the
# training data).
whole() {
  for ((r = 0; r < $1; ++r)); do
    echo "rank $r: [0, $2) of $2 of $3"
  done
}

for test in "$TMP/plain/tiny" "$DATA"; do
  name=$(basename "$test")-images-idx3-ubyte$([ "$test" == "$DATA" ] && echo .gz)
  check "IDX $name" 2 "rank 0: [0, 128) of 256 of $name
rank 1: [128, 256) of 256 of $name
$(whole 2 256 fashion-tiny-images-idx3-ubyte.gz)" \
    "$MODEL" "${OPTS[@]}" --steps 4 --test "$test"
done
check "IDX, uneven shards" 3 "rank 0: [0, 86) of 256 of tiny-images-idx3-ubyte
rank 1: [86, 171) of 256 of tiny-images-idx3-ubyte
rank 2: [171, 256) of 256 of tiny-images-idx3-ubyte
$(whole 3 256 fashion-tiny-images-idx3-ubyte.gz)" \
  "$MODEL" "${OPTS[@]}" --steps 4 --test "$TMP/plain/tiny"

CSV=$EX/data/circles.csv
CIRCLES=("$EX/circles.nn" --backend=cpu --threads 1 --quiet --steps 10)
check "CSV" 3 "rank 0: [0, 134) of 400 of circles.csv
rank 1: [134, 267) of 400 of circles.csv
rank 2: [267, 400) of 400 of circles.csv
$(whole 3 400 circles.csv)" "${CIRCLES[@]}" --test "$CSV"

# A test set smaller than the world: rank 2 of 3 holds no test row.
head -3 "$CSV" >"$TMP/two.csv"
check "CSV of 2 rows" 3 "rank 0: [0, 1) of 2 of two.csv
rank 1: [1, 2) of 2 of two.csv
rank 2: [2, 2) of 2 of two.csv
$(whole 3 400 circles.csv)" "${CIRCLES[@]}" --test "$TMP/two.csv"

# A bad value in rank 1's rows only: rank 1 says where, with the file's
# line number, and the job ends.
{ cat "$CSV"; echo "1,x,0"; } >"$TMP/bad.csv"
if out=$(mpi 2 train "${CIRCLES[@]}" --test "$TMP/bad.csv" 2>&1); then
  fail "a bad test value in rank 1's rows: the run succeeded"
elif [[ $out != *"bad.csv:402:3: error: not a number 'x'"* ]]; then
  fail "a bad test value in rank 1's rows: $out"
else
  echo "ok: a bad test value in rank 1's rows ends the job with its line"
fi
finish
