#!/usr/bin/env bash
# Data-parallel training on GPUs (issue 19, docs/distributed.md): two ranks
# of `mpirun -np 2 nnc train mnist_mlp --backend=cuda --steps 50`, each on
# its own GPU (the local rank picks it), on the 256 samples of tests/data:
#   - with NCCL, two runs give the same weights bit for bit, and rank 0 says
#     once that the gradients are summed with NCCL;
#   - with NNC_NCCL=0 (the gradients through MPI on host buffers) the weights
#     are within 1e-5 of NCCL's; the two paths add the same floats in the
#     same order, so they are expected to be the same bits, which is checked
#     too;
#   - on a machine of one GPU, the two ranks share it and the gradients go
#     through MPI ("share a GPU"); the NCCL checks skip with that message.
# Skips (77) where there is no GPU, no mpirun or no MPI build.
source "$(dirname "$0")/lib.bash"
source "$NNC_SOURCE_DIR/tests/e2e/mpi.bash"

GPU_OPTS=(--data "$DATA" --backend=cuda --quiet --epochs 1000 --validation 0
          --steps 50)
# run NAME [ENV...]: 2 ranks, weights saved to $TMP/NAME.safetensors, the
# output kept in $TMP/NAME.txt.
run() {
  local name=$1
  shift
  env "$@" "${MPIRUN[@]}" -np 2 "$NNC" train "$MODEL" "${GPU_OPTS[@]}" \
    --save "$TMP/$name.safetensors" >"$TMP/$name.txt" 2>&1 ||
    fail "$name: exit $?: $(cat "$TMP/$name.txt")"
}
path_line() { grep -c "^nnc: data-parallel: gradients summed $2" "$TMP/$1.txt"; }

run host NNC_NCCL=0
[ "$(path_line host "through MPI on host buffers (NNC_NCCL=0)")" -eq 1 ] ||
  fail "want one line of the host path: $(cat "$TMP/host.txt")"

gpus=$(nvidia-smi -L 2>/dev/null | grep -c "^GPU")
if [ "$gpus" -lt 2 ]; then
  run shared
  [ "$(path_line shared "through MPI on host buffers (ranks 0 and 1 share a GPU")" -eq 1 ] ||
    fail "one GPU: want the shared-GPU fallback: $(cat "$TMP/shared.txt")"
  cmp -s "$TMP/host.safetensors" "$TMP/shared.safetensors" ||
    fail "one GPU: the fallback differs from NNC_NCCL=0"
  echo "skip: NCCL needs a GPU per rank; this machine has $gpus"
  [ "$failures" -eq 0 ] || finish
  exit 77
fi

run nccl_a
run nccl_b
if [ "$(path_line nccl_a "with NCCL ")" -ne 1 ]; then
  echo "skip: no NCCL here: $(grep "data-parallel:" "$TMP/nccl_a.txt")"
  [ "$failures" -eq 0 ] || finish
  exit 77
fi
echo "ok: $(grep "data-parallel:" "$TMP/nccl_a.txt")"
if cmp -s "$TMP/nccl_a.safetensors" "$TMP/nccl_b.safetensors"; then
  echo "ok: NCCL: two runs give the same bits"
else
  fail "NCCL: two runs give different weights"
fi
weights_close "$TMP/host.safetensors" "$TMP/nccl_a.safetensors" 1e-5 \
  "NCCL vs MPI on host buffers"
cmp -s "$TMP/host.safetensors" "$TMP/nccl_a.safetensors" ||
  fail "NCCL and MPI on host buffers give different bits"
finish
