#!/usr/bin/env bash
# Dropout under mpirun draws the masks of one process (ir/Philox.h): each
# shard's dropouts count their elements from the shard's first row of the
# global batch (the "optimizer.first_row" leaf), so 50 steps of
# mlp_dropout.nn (mnist_mlp with dropout 0.2 and 0.1 after its hidden
# layers) with 2 and 3 processes end within 1e-5 of the single-process run,
# and two runs with the same number give the same bits. Largest difference
# measured: 1.8e-7 with 2 processes and with 3; when each shard drew the
# masks of rows [0, e - b), 0.32 with 2.
source "$(dirname "$0")/lib.bash"
source "$(dirname "$0")/mpi.bash"
deterministic_runs mlp_dropout "$NNC_SOURCE_DIR/tests/e2e/mlp_dropout.nn" \
  1e-5 "${OPTS[@]}" --steps 50
finish
