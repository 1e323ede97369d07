#!/usr/bin/env bash
# Batch norm under mpirun (docs/distributed.md): each rank normalizes with
# its shard's statistics, and the running statistics its forward pass
# writes are averaged across ranks like the gradients. Two runs give the
# same bits; after one step the running mean equals the single-process
# run's (the mean of the shards' means is the batch's mean); the model
# trains (the loss falls) and resumes across N.
source "$(dirname "$0")/lib.bash"
source "$(dirname "$0")/mpi.bash"
BN=$NNC_SOURCE_DIR/tests/e2e/mpi_batch_norm.nn
BOPTS=(--data "$DATA" --backend=cpu --threads 1 --quiet --validation 0)
run_mpi() { # NP ARGS...: an mpirun that must succeed
  local np=$1
  shift
  mpi "$np" train "$BN" "${BOPTS[@]}" "$@" >"$TMP/out" 2>&1 ||
    fail "$np processes $*: exit $?: $(cat "$TMP/out")"
}
expect_ok "$NNC" train "$BN" "${BOPTS[@]}" --steps 1 --save "$TMP/one1.safetensors"
for np in 2 3; do
  run_mpi "$np" --steps 1 --save "$TMP/${np}_1.safetensors"
  weights_close "$TMP/one1.safetensors" "$TMP/${np}_1.safetensors" 1e-6 \
    "$np processes vs one, running mean after one step" running_mean
  for run in a b; do
    run_mpi "$np" --steps 30 --save "$TMP/$np$run.safetensors"
  done
  if cmp -s "$TMP/${np}a.safetensors" "$TMP/${np}b.safetensors"; then
    echo "ok: $np processes: two runs give the same bits"
  else
    fail "$np processes: two runs give different weights"
  fi
done
# It learns: the loss of the first epoch (4 steps) is above the 8th's.
run_mpi 2 --epochs 8 --metrics "$TMP/m.csv"
first=$(sed -n 2p "$TMP/m.csv" | cut -d, -f3)
last=$(sed -n 9p "$TMP/m.csv" | cut -d, -f3)
if awk -v a="$first" -v b="$last" 'BEGIN { exit !(b < 0.8 * a) }'; then
  echo "ok: 2 processes: train loss $first -> $last over 8 epochs"
else
  fail "2 processes: train loss $first -> $last does not fall"
fi
# Resume: the running statistics are in the checkpoint.
run_mpi 2 --steps 10 --checkpoint "$TMP/c10.safetensors"
run_mpi 2 --steps 30 --resume "$TMP/c10.safetensors" --save "$TMP/res.safetensors"
if cmp -s "$TMP/2a.safetensors" "$TMP/res.safetensors"; then
  echo "ok: resumed with 2 processes equals the uninterrupted run"
else
  fail "resumed with 2 processes differs from the uninterrupted run"
fi
finish
