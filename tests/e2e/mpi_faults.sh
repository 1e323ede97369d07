#!/usr/bin/env bash
# Faults in a data-parallel run: a rank killed with SIGKILL ends the job
# within seconds with Open MPI's message (mpirun sees the process die and
# stops the others, which would otherwise wait in the all-gather); SIGINT
# to mpirun (which sends SIGTERM to every rank) stops every rank after the
# same step, rank 0 alone writes one checkpoint, and the run resumes from it.
# An error on a rank ends the job (MPI_Abort) with its message.
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
if [ "$rc" -ne 1 ] || [[ $out != *"no such directory '/nonexistent'"* ]]; then
  fail "an error on the ranks: exit $rc (want 1): $out"
else
  echo "ok: an error on the ranks ends the job (exit 1) with its message"
fi

# A rank killed mid-run.
"${MPIRUN[@]}" -np 2 "$NNC" train "$MODEL" "${LONG[@]}" >"$TMP/kill.txt" 2>&1 &
job=$!
started "$TMP/kill.txt" || fail "the run did not start: $(cat "$TMP/kill.txt")"
victim=$(rank_pid "$job" 1)
if [ -z "$victim" ]; then
  fail "no rank 1 under mpirun $job"
else
  kill -9 "$victim"
  wait_for "$job" 20
  if [ "$RC" = -1 ]; then
    fail "the job still ran 20 s after rank 1 was killed"
  elif [ "$RC" -eq 0 ]; then
    fail "the job exited 0 after rank 1 was killed"
  elif ! grep -q "rank 1 .*exited on signal 9" "$TMP/kill.txt"; then
    fail "no message about rank 1: $(cat "$TMP/kill.txt")"
  else
    echo "ok: a killed rank ends the job (exit $RC) with a message"
  fi
fi

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
