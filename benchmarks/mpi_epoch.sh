#!/usr/bin/env bash
# Data-parallel epoch time on one machine (docs/distributed.md): one epoch
# of mnist_mlp on Fashion-MNIST (54,000 training samples after the 10%
# validation split, batch 64), as
#   1 process, 1 thread; 1 process, 2 threads; 2 processes, 1 thread each
# and, for the data-parallel run, where a step's time went (nnc's
# "data-parallel:" line: the gradients, the reduction, the update).
# Usage: benchmarks/mpi_epoch.sh [--nnc build/nnc] [--epochs 1]
set -eu
NNC=build/nnc
EPOCHS=1
while [ $# -gt 0 ]; do
  case $1 in
  --nnc) NNC=$2; shift 2 ;;
  --epochs) EPOCHS=$2; shift 2 ;;
  *) echo "usage: $0 [--nnc PATH] [--epochs N]" >&2; exit 2 ;;
  esac
done
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
MODEL=$(dirname "$0")/../examples/mnist_mlp.nn
OPTS=(--backend=cpu --epochs "$EPOCHS" --no-cache)
# epoch_seconds: the seconds on the last "epoch k/N" line of stdin.
epoch_seconds() { sed -n 's/^epoch .*  \([0-9.]*\)s  .*/\1/p' | tail -1; }
echo "config,epoch_seconds"
for t in 1 2; do
  s=$("$NNC" train "$MODEL" "${OPTS[@]}" --threads "$t" 2>&1 | epoch_seconds)
  echo "1 process x $t threads,$s"
done
out=$(mpirun --oversubscribe --allow-run-as-root -np 2 "$NNC" train "$MODEL" \
  "${OPTS[@]}" --threads 1 2>&1)
echo "2 processes x 1 thread,$(echo "$out" | epoch_seconds)"
echo "$out" | grep "^data-parallel:" >&2
