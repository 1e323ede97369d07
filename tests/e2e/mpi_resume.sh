#!/usr/bin/env bash
# --resume across the number of processes: a checkpoint is the state of
# the one model, whatever N wrote it. Stopped at step 20 with 2 processes,
# resumed to step 50 with 2 it equals the uninterrupted run bit for bit;
# resumed with 3 or with 1 it is within 1e-5 of the single-process run.
source "$(dirname "$0")/lib.bash"
source "$(dirname "$0")/mpi.bash"
run_mpi() { # NP ARGS...: an mpirun that must succeed
  local np=$1
  shift
  mpi "$np" train "$MODEL" "${OPTS[@]}" "$@" >"$TMP/out" 2>&1 ||
    fail "$np processes $*: exit $?: $(cat "$TMP/out")"
}
run_mpi 2 --steps 20 --checkpoint "$TMP/c20.safetensors"
[ -f "$TMP/c20.safetensors" ] || fail "no checkpoint at step 20"
run_mpi 2 --steps 50 --save "$TMP/two.safetensors"
run_mpi 2 --steps 50 --resume "$TMP/c20.safetensors" \
  --save "$TMP/two_resumed.safetensors"
if cmp -s "$TMP/two.safetensors" "$TMP/two_resumed.safetensors"; then
  echo "ok: resumed with 2 processes equals the uninterrupted run"
else
  fail "resumed with 2 processes differs from the uninterrupted run"
fi
expect_ok "$NNC" train "$MODEL" "${OPTS[@]}" --steps 50 \
  --save "$TMP/one.safetensors"
run_mpi 3 --steps 50 --resume "$TMP/c20.safetensors" \
  --save "$TMP/three_resumed.safetensors"
weights_close "$TMP/one.safetensors" "$TMP/three_resumed.safetensors" 1e-5 \
  "2 processes, resumed with 3, vs one"
expect_ok "$NNC" train "$MODEL" "${OPTS[@]}" --steps 50 \
  --resume "$TMP/c20.safetensors" --save "$TMP/one_resumed.safetensors"
weights_close "$TMP/one.safetensors" "$TMP/one_resumed.safetensors" 1e-5 \
  "2 processes, resumed with 1, vs one"
finish
