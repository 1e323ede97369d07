#!/usr/bin/env bash
# Faults in a data-parallel run: a rank killed with SIGKILL ends the job
# within seconds with Open MPI's message (mpirun sees the process die and
# stops the others, which would otherwise wait in the all-gather); SIGINT
# to mpirun (which sends SIGTERM to every rank) stops every rank after the
# same step, rank 0 alone writes one checkpoint, and the run resumes from it.
# An error on a rank ends the job (MPI_Abort) with its message, printed once
# when every rank fails alike. A stopped rank ends the job after
# NNC_MPI_TIMEOUT seconds.
source "$(dirname "$0")/lib.bash"
source "$(dirname "$0")/mpi.bash"
LONG=(--data "$DATA" --backend=cpu --threads 1 --epochs 100000 --validation 0)

# wait_for PID SECONDS: waits until PID ended; its exit status in $RC, -1
# when it still runs after SECONDS (then it is killed).
wait_for() {
  local i
  for ((i = 0; i < $2 * 10; ++i)); do
    if ! kill -0 "$1" 2>/dev/null; then
      wait "$1"
      RC=$?
      return
    fi
    sleep 0.1
  done
  kill -9 "$1" 2>/dev/null
  RC=-1
}

# rank_pid MPIRUN_PID RANK: the pid of that rank (from its environment).
rank_pid() {
  local p
  for p in $(pgrep -P "$1"); do
    if tr '\0' '\n' <"/proc/$p/environ" 2>/dev/null |
      grep -qx "OMPI_COMM_WORLD_RANK=$2"; then
      echo "$p"
      return
    fi
  done
}

# started FILE: waits (up to 30 s) for the first epoch line in FILE.
started() {
  local i
  for ((i = 0; i < 300; ++i)); do
    grep -q "^epoch 1/" "$1" 2>/dev/null && return 0
    sleep 0.1
  done
  return 1
}

# An error on the ranks (here every rank's) ends the job: MPI_Abort.
out=$(timeout 60 "${MPIRUN[@]}" -np 2 "$NNC" train "$MODEL" "${OPTS[@]}" \
  --steps 3 --save /nonexistent/w.safetensors 2>&1)
rc=$?
n=$(grep -c "no such directory '/nonexistent'" <<<"$out")
if [ "$rc" -ne 1 ] || [ "$n" -ne 1 ]; then
  fail "an error on the ranks: exit $rc (want 1), $n messages (want 1): $out"
else
  echo "ok: an error on the ranks ends the job (exit 1) with one message"
fi

# The same before the ranks join the world (a bad flag).
out=$(timeout 60 "${MPIRUN[@]}" -np 3 "$NNC" train "$MODEL" --bogus 2>&1)
n=$(grep -c "unknown option '--bogus'" <<<"$out")
[ "$n" -eq 1 ] || fail "a bad flag under mpirun: $n messages (want 1): $out"

# An error only rank 1 sees (its model file is missing) is printed by it.
out=$(timeout 60 "${MPIRUN[@]}" -np 2 bash -c '[ "$OMPI_COMM_WORLD_RANK" = 1 ] &&
  m=$0.missing; exec "$1" train "${m:-$0}" --steps 1 --quiet' "$MODEL" \
  "$NNC" 2>&1)
if [[ $out == *"$MODEL.missing"*"nnc: note: on rank 1 of 2"* ]]; then
  echo "ok: an error on rank 1 alone is printed by rank 1"
else
  fail "an error on rank 1 alone: $out"
fi

# signal_rank1 SIGNAL SECONDS VERB PATTERN MPIRUN_ARGS...: starts a long
# run, sends SIGNAL to rank 1, and wants the job to end non-zero within
# SECONDS with PATTERN in its output.
signal_rank1() {
  local sig=$1 secs=$2 verb=$3 pattern=$4 victim
  shift 4
  "${MPIRUN[@]}" -np 2 "$@" "$NNC" train "$MODEL" "${LONG[@]}" \
    >"$TMP/sig.txt" 2>&1 &
  job=$!
  started "$TMP/sig.txt" || fail "the run did not start: $(cat "$TMP/sig.txt")"
  victim=$(rank_pid "$job" 1)
  if [ -z "$victim" ]; then
    fail "no rank 1 under mpirun $job"
    return
  fi
  kill "-$sig" "$victim"
  wait_for "$job" "$secs"
  kill -9 "$victim" 2>/dev/null
  if [ "$RC" = -1 ]; then
    fail "the job still ran $secs s after rank 1 was $verb"
  elif [ "$RC" -eq 0 ]; then
    fail "the job exited 0 after rank 1 was $verb"
  elif ! grep -q "$pattern" "$TMP/sig.txt"; then
    fail "no message about rank 1: $(cat "$TMP/sig.txt")"
  else
    echo "ok: a $verb rank ends the job (exit $RC) with a message"
  fi
}
# A rank killed mid-run: mpirun sees it die.
signal_rank1 KILL 20 killed "rank 1 .*exited on signal 9"
# A rank that hangs (stopped with SIGSTOP): the other gives up after
# NNC_MPI_TIMEOUT seconds with a message and ends the job.
signal_rank1 STOP 30 stopped \
  "rank 0: MPI_.* had no answer from the other ranks for 3 s" \
  -x NNC_MPI_TIMEOUT=3
out=$(NNC_MPI_TIMEOUT=soon timeout 60 "${MPIRUN[@]}" -np 2 \
  -x NNC_MPI_TIMEOUT "$NNC" train "$MODEL" "${OPTS[@]}" --steps 1 2>&1)
[[ $out == *"NNC_MPI_TIMEOUT='soon' is not a positive number"* ]] ||
  fail "a bad NNC_MPI_TIMEOUT: $out"

# SIGINT to the launcher.
"${MPIRUN[@]}" -np 2 "$NNC" train "$MODEL" "${LONG[@]}" \
  --checkpoint "$TMP/ck.safetensors" >"$TMP/int.txt" 2>&1 &
job=$!
started "$TMP/int.txt" || fail "the run did not start: $(cat "$TMP/int.txt")"
sleep 1
kill -INT "$job"
wait_for "$job" 20
[ "$RC" = -1 ] && fail "the job still ran 20 s after SIGINT"
n=$(grep -c "^interrupted by signal" "$TMP/int.txt")
[ "$n" -eq 1 ] || fail "want one 'interrupted' line, got $n: $(cat "$TMP/int.txt")"
step=$(sed -n 's/^interrupted by signal [0-9]* after \([0-9]*\) steps.*/\1/p' \
  "$TMP/int.txt")
if [ -z "$step" ]; then
  fail "no step in the interrupt message: $(cat "$TMP/int.txt")"
else
  echo "ok: SIGINT stopped both ranks after step $step, one checkpoint"
  mpi 2 train "$MODEL" "${LONG[@]}" --quiet --resume "$TMP/ck.safetensors" \
    --steps $((step + 3)) --save "$TMP/after.safetensors" >"$TMP/res.txt" 2>&1 ||
    fail "resume after SIGINT: $(cat "$TMP/res.txt")"
  [ -f "$TMP/after.safetensors" ] && echo "ok: resumed after SIGINT"
fi
finish
