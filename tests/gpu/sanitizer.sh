#!/usr/bin/env bash
# compute-sanitizer over real training steps on the GPU: memcheck (out of
# bounds and misaligned accesses, leaks of device memory) and racecheck
# (shared-memory hazards in the tiled GEMM and the block reductions), on
# every example, fused and unfused, with the step replayed as a CUDA graph
# and launched kernel by kernel (--sync), with TF32 GEMMs, and with every
# GEMM on big tiles. Any report fails the test.
source "$(dirname "$0")/lib.bash"
SAN=$(command -v compute-sanitizer || echo /usr/local/cuda/bin/compute-sanitizer)
if [ ! -x "$SAN" ]; then
  echo "skip: compute-sanitizer is not installed (CUDA toolkit)"
  exit 77
fi
export XDG_CACHE_HOME=$TMP/cache

sanitize() { # TOOL ARGS...: nnc under the tool; its log is shown on failure
  local tool=$1
  shift
  local extra=()
  [ "$tool" = memcheck ] && extra=(--leak-check full)
  if "$SAN" --tool "$tool" "${extra[@]}" --error-exitcode 3 "$NNC" "$@" \
      >"$TMP/log" 2>&1; then
    echo "ok: $tool: nnc $*"
  else
    fail "$tool: nnc $*"$'\n'"$(tail -40 "$TMP/log")"
  fi
}

for tool in memcheck racecheck; do
  for fuse in all none; do
    for sync in "" --sync; do
      sanitize "$tool" train "$EX/mnist_mlp.nn" --backend=cuda --steps 3 \
        --quiet --fuse=$fuse $sync --batch 37
      sanitize "$tool" train "$EX/churn.nn" --backend=cuda --steps 3 \
        --quiet --fuse=$fuse $sync
    done
  done
  # The tensor-core GEMM (its own shared-memory tiles and fragments).
  sanitize "$tool" train "$EX/mnist_mlp.nn" --backend=cuda --steps 3 \
    --quiet --precision tf32 --batch 37
  # Every GEMM on 128 x 128 tiles (double-buffered slices), fp32 and TF32.
  for precision in fp32 tf32; do
    NNC_CUDA_BIG_TILES_FROM=1 sanitize "$tool" train "$EX/mnist_mlp.nn" \
      --backend=cuda --steps 3 --quiet --precision $precision --batch 200
  done
done
finish
