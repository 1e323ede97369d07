# Shared helpers of the data-parallel tests, tests/e2e/mpi_*.sh (sourced
# after lib.bash, not a test itself). They skip (77) with a message where
# mpirun is missing, where nnc was built without MPI or the cpu backend.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
# Quiet on machines with no network interface but the loopback.
export OMPI_MCA_btl_base_warn_component_unused=0
DATA=$NNC_SOURCE_DIR/tests/data/fashion-tiny
PY=${PYTHON:-python3}

# mpi NP ARGS...: nnc ARGS... as NP processes on this machine (run in the
# background with "${MPIRUN[@]}", so that $! is mpirun's pid).
MPIRUN=(mpirun --oversubscribe --allow-run-as-root)
mpi() {
  local np=$1
  shift
  "${MPIRUN[@]}" -np "$np" "$NNC" "$@"
}

if ! command -v mpirun >/dev/null; then
  echo "skip: mpirun not found (apt-get install openmpi-bin libopenmpi-dev)"
  exit 77
fi
if ! "$NNC" train "$EX/xor.nn" --backend=cpu --steps 1 --quiet \
  >/dev/null 2>&1; then
  echo "skip: this nnc has no cpu backend"
  exit 77
fi
if mpi 2 train "$EX/xor.nn" --backend=cpu --steps 1 --quiet 2>&1 |
  grep -q "built without MPI"; then
  echo "skip: this nnc was built without MPI (libopenmpi-dev)"
  exit 77
fi

# mnist_mlp without early stopping (so that --steps decides), on the 256
# samples of tests/data; OPTS: the flags every run of a test shares.
sed -e '/early_stop/d' "$EX/mnist_mlp.nn" >"$TMP/mlp.nn"
MODEL=$TMP/mlp.nn
OPTS=(--data "$DATA" --backend=cpu --threads 1 --quiet --epochs 1000
      --validation 0)

# weights_close A B TOL WHAT [SUFFIX]: the largest difference of A and B
# (of the tensors whose names end with SUFFIX) is <= TOL.
weights_close() {
  local out
  if out=$("$PY" "$NNC_SOURCE_DIR/tests/e2e/weights_diff.py" "$1" "$2" "$3" \
    "${5:-}"); then
    echo "ok: $4: $out (tolerance $3)"
  else
    fail "$4: $out (tolerance $3)"
  fi
}

# deterministic_runs NAME MODEL TOL ARGS...: MODEL trained with ARGS in one
# process and twice each with 2 and 3 processes: the two runs of one count
# give the same bits, and each is within TOL of the single process.
deterministic_runs() {
  local name=$1 model=$2 tol=$3
  shift 3
  expect_ok "$NNC" train "$model" "$@" --save "$TMP/$name-1.safetensors"
  local np run
  for np in 2 3; do
    for run in a b; do
      mpi "$np" train "$model" "$@" --save "$TMP/$name-$np$run.safetensors" \
        >"$TMP/out" 2>&1 ||
        fail "$name, $np processes: exit $?: $(cat "$TMP/out")"
    done
    if cmp -s "$TMP/$name-${np}a.safetensors" "$TMP/$name-${np}b.safetensors"
    then
      echo "ok: $name, $np processes: two runs give the same bits"
    else
      fail "$name, $np processes: two runs give different weights"
    fi
    weights_close "$TMP/$name-1.safetensors" "$TMP/$name-${np}a.safetensors" \
      "$tol" "$name, $np processes vs one"
  done
}
