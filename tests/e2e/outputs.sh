#!/usr/bin/env bash
# Outputs never destroy data, and a write error is never a success
# (docs/reliability.md, "Outputs"): devices and pipes are written in place,
# symbolic links through to their targets; an output that is an input or
# another output is refused before any work, as is one whose directory is
# missing; a late failure still writes the other files and says what was
# and was not written; full disks (a small tmpfs), /dev/full and ulimit -f
# are exit 1 with the reason, never exit 0 and never a torn file.
source "$(dirname "$0")/lib.bash"
XOR=$EX/xor.nn
train() { "$NNC" train "$XOR" --backend interp "$@"; }

# expect_fast_error SUBSTRING CMD...: as expect_error, and no epoch ran.
expect_fast_error() {
  local want=$1 out rc
  shift
  out=$("$@" 2>&1 >/dev/null)
  rc=$?
  if [ "$rc" -ne 1 ] || [[ $out != *"$want"* ]]; then
    fail "exit code $rc (want 1 and '$want'): $*"$'\n'"$out"
  elif grep -q '^epoch ' <<<"$out"; then
    fail "trained before refusing: $*"$'\n'"$out"
  else
    echo "ok: $want"
  fi
}

# expect_error_log SUBSTRING CMD...: as expect_error; stderr kept in $TMP/err.
expect_error_log() {
  local want=$1 rc
  shift
  "$@" >/dev/null 2>"$TMP/err"
  rc=$?
  if [ "$rc" -ne 1 ] || ! grep -qF -- "$want" "$TMP/err"; then
    fail "exit code $rc (want 1 and '$want'): $*"$'\n'"$(cat "$TMP/err")"
  else
    echo "ok: $want"
  fi
}

no_temp_files() { # DIR...: no temp file of the atomic writer is left
  if find "$@" -name '*.tmp*' | grep -q .; then
    fail "temp files left: $(find "$@" -name '*.tmp*')"
  fi
}

# --- Devices: written in place, never replaced (needs mknod: root, no nodev).
if mknod "$TMP/null" c 1 3 2>/dev/null && mknod "$TMP/full" c 1 7 &&
  echo probe >"$TMP/null" 2>/dev/null; then
  for flag in --save --checkpoint --metrics --plot; do
    expect_ok train --epochs 2 $flag "$TMP/null"
    [ -c "$TMP/null" ] || fail "$flag replaced the device node null"
    expect_error "$TMP/full: error: cannot write file: No space left on device" \
      train --epochs 2 $flag "$TMP/full"
    [ -c "$TMP/full" ] || fail "$flag replaced the device node full"
  done
  if "$NNC" compile "$XOR" -o "$TMP/probe.o" >/dev/null 2>&1; then # LLVM
    expect_error "No space left on device" \
      "$NNC" compile "$XOR" -o "$TMP/full" --header "$TMP/h.h"
    [ -c "$TMP/full" ] || fail "compile -o replaced the device node full"
  fi
  expect_error "No space left on device" \
    "$NNC" report "$XOR" -o "$TMP/full"
  [ -c "$TMP/full" ] || fail "report -o replaced the device node full"
  ls "$TMP" | grep -q 'prev' && fail "a .prev file beside a device"
  no_temp_files "$TMP"
else
  echo "skip: cannot make device nodes in $TMP (mknod needs root, no nodev)"
fi
# Several outputs onto one device; standard output through a link into
# /proc, as /dev/stdout is. (Never the real /dev/null or /dev/stdout: an nnc
# with the bug would replace them for the whole machine.)
if [ -c "$TMP/null" ]; then
  expect_ok train --epochs 2 --save "$TMP/null" --metrics "$TMP/null" \
    --plot "$TMP/null"
  [ -c "$TMP/null" ] || fail "the device node null was replaced"
fi
ln -s /proc/self/fd/1 "$TMP/stdout"
expect_ok train --epochs 3 --metrics "$TMP/stdout"
[ "$(printf '%s\n' "$OUT" | grep -c '^[0-9]')" -eq 3 ] ||
  fail "--metrics through /proc/self/fd/1: $OUT"
[ -L "$TMP/stdout" ] || fail "the link to /proc/self/fd/1 was replaced"

# graph -o and report -o name the reason, here through a link to /dev/full
# (an nnc with the bug replaces only the link).
ln -s /dev/full "$TMP/gfull.dot"
ln -s /dev/full "$TMP/rfull.html"
expect_error "$TMP/gfull.dot: error: cannot write file: No space left on device" \
  "$NNC" graph "$XOR" -o "$TMP/gfull.dot"
expect_error "$TMP/rfull.html: error: cannot write file: No space left on device" \
  "$NNC" report "$XOR" -o "$TMP/rfull.html"
[ -L "$TMP/gfull.dot" ] && [ -L "$TMP/rfull.html" ] || fail "a link to /dev/full was replaced"

# A pipe: written in place.
mkfifo "$TMP/pipe"
cat "$TMP/pipe" >"$TMP/from-pipe.svg" &
expect_ok train --epochs 2 --plot "$TMP/pipe"
wait
[ -p "$TMP/pipe" ] || fail "the pipe was replaced"
grep -q '</svg>' "$TMP/from-pipe.svg" || fail "the plot did not go through the pipe"

# Directories are refused, before training.
mkdir "$TMP/adir"
expect_fast_error "cannot write the weights (--save): it is a directory" \
  train --save "$TMP/adir"

# --- Symbolic links: written through to the target, in its directory.
mkdir "$TMP/real"
expect_ok train --epochs 1 --save "$TMP/real/target.st"
cp "$TMP/real/target.st" "$TMP/old.st"
ln -s real/target.st "$TMP/link.st"
expect_ok train --epochs 5 --save "$TMP/link.st"
[ -L "$TMP/link.st" ] || fail "--save replaced the symbolic link"
cmp -s "$TMP/real/target.st" "$TMP/old.st" && fail "the link's target is stale"
ln -s real/ck.st "$TMP/cklink.st"
expect_ok train --epochs 2 --checkpoint "$TMP/cklink.st"
expect_ok train --epochs 3 --checkpoint "$TMP/cklink.st"
[ -L "$TMP/cklink.st" ] || fail "--checkpoint replaced the symbolic link"
[ -f "$TMP/real/ck.st" ] && [ -f "$TMP/real/ck.st.prev" ] ||
  fail "checkpoint and .prev belong beside the target: $(ls "$TMP/real")"
no_temp_files "$TMP"

# --- An output that is an input (by identity, not spelling), or two
# outputs onto one file: refused before any work, the input untouched.
cp "$XOR" "$TMP/m.nn"
cp -r "$EX/data" "$TMP/data"
sum=$(cksum <"$TMP/m.nn")
expect_fast_error "--save and the model are the same file" \
  "$NNC" train "$TMP/m.nn" --save "$TMP/./m.nn"
expect_error "--output and the model are the same file" \
  "$NNC" compile "$TMP/m.nn" -o "$TMP/m.nn"
expect_error "--header and the model are the same file" \
  "$NNC" compile "$TMP/m.nn" -o "$TMP/m.o" --header "$TMP/m.nn"
expect_error "--output and the model are the same file" \
  "$NNC" graph "$TMP/m.nn" -o "$TMP/../$(basename "$TMP")/m.nn"
expect_error "--output and the model are the same file" \
  "$NNC" report "$TMP/m.nn" -o "$TMP/m.nn"
[ "$(cksum <"$TMP/m.nn")" = "$sum" ] || fail "the model was overwritten"
ln "$TMP/real/target.st" "$TMP/hard.st"
cp "$TMP/real/target.st" "$TMP/w.st"
wsum=$(cksum <"$TMP/w.st")
expect_fast_error "--save and --init are the same file" \
  train --init "$TMP/w.st" --save "$TMP/w.st"
expect_fast_error "--save and --init are the same file" \
  train --init "$TMP/real/target.st" --save "$TMP/hard.st"
expect_fast_error "--checkpoint and --save are the same file" \
  train --checkpoint "$TMP/w.st" --save "$TMP/w.st"
expect_fast_error "--plot and --metrics are the same file" \
  train --metrics "$TMP/o.x" --plot "$TMP/o.x"
expect_fast_error "--metrics and --save are the same file" \
  train --save "$TMP/w.st" --metrics "$TMP/w.st"
[ "$(cksum <"$TMP/w.st")" = "$wsum" ] || fail "--init's file was overwritten"
[ -e "$TMP/o.x" ] && fail "o.x written by a refused run"
# Resuming where the checkpoint is written stays allowed.
expect_ok train --epochs 4 --checkpoint "$TMP/real/ck.st" --resume "$TMP/real/ck.st"

# --- Output paths are checked before the first step.
expect_fast_error "cannot write the plot (--plot): no such directory" \
  train --epochs 300 --plot "$TMP/nodir/curve.svg" --save "$TMP/after.st"
expect_fast_error "cannot write the weights (--save): no such directory" \
  train --epochs 300 --save "$TMP/nodir/w.st"
expect_fast_error "cannot write the checkpoint (--checkpoint): no such directory" \
  train --checkpoint "$TMP/nodir/ck.st"
expect_error "cannot write the object file (--output): no such directory" \
  "$NNC" compile "$XOR" -o "$TMP/nodir/x.o"
expect_error "cannot write the graph (--output): no such directory" \
  "$NNC" graph "$XOR" -o "$TMP/nodir/g.dot"

# --- A non-finite stop names a kept checkpoint only when there is one.
cat >"$TMP/div.nn" <<NN
model div
input x : f32[2]
label y : real
o = dense(x, 1)
loss mse(o, y)
train {
  data csv("$EX/data/xor.csv", label = "y")
  optimizer sgd(lr = 1e30)
  batch 1
  epochs 5
  seed 1
}
NN
# The run fails in its first epoch: the previous metrics file is kept.
expect_ok train --epochs 3 --metrics "$TMP/keep.csv"
cp "$TMP/keep.csv" "$TMP/keep.orig"
"$NNC" train "$TMP/div.nn" --backend interp --checkpoint "$TMP/div.st" \
  --metrics "$TMP/keep.csv" 2>"$TMP/div.err"
cmp -s "$TMP/keep.csv" "$TMP/keep.orig" || fail "a failed run replaced the metrics"
grep -q "training stopped" "$TMP/div.err" || fail "no non-finite stop: $(cat "$TMP/div.err")"
grep -q "last good checkpoint" "$TMP/div.err" &&
  fail "claims a checkpoint that was never written: $(cat "$TMP/div.err")"
[ -e "$TMP/div.st" ] && fail "a checkpoint was written after a non-finite step"
grep -q "no checkpoint was written" "$TMP/div.err" || fail "$(cat "$TMP/div.err")"

# --- An interrupted run that restores the best weights writes them to
# --save, as asked (it used to say "restored" and write nothing).
es_model "$TMP/es.nn" 100000 100000
"$NNC" train "$TMP/es.nn" --backend interp --metrics "$TMP/es.csv" \
  --save "$TMP/es.st" 2>"$TMP/es.err" &
pid=$! waited=0
while [ "$(cat "$TMP/es.csv" 2>/dev/null | wc -l)" -lt 4 ] && [ $waited -lt 2400 ]; do
  sleep 0.05
  waited=$((waited + 1))
done
kill -INT $pid
wait $pid
rc=$?
[ $rc -eq 130 ] || fail "interrupted run: exit $rc, $(cat "$TMP/es.err")"
grep -q "restored the weights of epoch 1" "$TMP/es.err" ||
  fail "no restore: $(cat "$TMP/es.err")"
[ -f "$TMP/es.st" ] || fail "restored weights claimed, --save not written"
grep -q "wrote the weights to $TMP/es.st" "$TMP/es.err" || fail "$(cat "$TMP/es.err")"

# --- Standard output: a write error is exit 1 with the reason.
for cmd in "emit $XOR" "summary $XOR" "graph $XOR" "check $XOR"; do
  # shellcheck disable=SC2086
  "$NNC" $cmd >/dev/full 2>"$TMP/stdout.err"
  rc=$?
  if [ "$cmd" = "check $XOR" ] && [ $rc -eq 0 ] && [ ! -s "$TMP/stdout.err" ]; then
    continue # check prints nothing when all is well
  fi
  [ $rc -eq 1 ] && grep -q "nnc: error: cannot write to standard output: No space left on device" "$TMP/stdout.err" ||
    fail "nnc $cmd >/dev/full: exit $rc, $(cat "$TMP/stdout.err")"
done
expect_ok train --epochs 20 --save "$TMP/p.st"
"$NNC" predict "$XOR" --weights "$TMP/p.st" --data "$EX/data/xor.csv" \
  >/dev/full 2>"$TMP/predict.err"
rc=$?
[ $rc -eq 1 ] && grep -q "cannot write to standard output" "$TMP/predict.err" ||
  fail "predict >/dev/full: exit $rc, $(cat "$TMP/predict.err")"

# --- ulimit -f: EFBIG, reported like a full disk, never SIGXFSZ (153).
TINY=$TMP/tiny.nn
cat >"$TINY" <<NN
model tiny
input x : f32[784]
label y : class(10)
o = dense(x, 10)
loss cross_entropy(softmax(o), y)
train {
  data idx("$NNC_SOURCE_DIR/tests/data/fashion-tiny")
  optimizer sgd(lr = 0.01)
  batch 16  epochs 1  seed 5
}
NN
(ulimit -f 1 && exec "$NNC" train "$TINY" --backend interp \
  --checkpoint "$TMP/big.st") 2>"$TMP/efbig.err"
rc=$?
[ $rc -eq 1 ] && grep -q "$TMP/big.st: error: cannot write file: File too large" "$TMP/efbig.err" ||
  fail "ulimit -f 1: exit $rc, $(cat "$TMP/efbig.err")"
no_temp_files "$TMP"

# --- Full disks: a small tmpfs (needs mount: root, CAP_SYS_ADMIN).
DISK=$TMP/disk
mkdir "$DISK"
if mount -t tmpfs -o size=256k tmpfs "$DISK" 2>/dev/null; then
  trap 'umount "$DISK"; rm -rf "$TMP"' EXIT
  fill() { # fills the disk, but for FREE bytes
    rm -f "$DISK/filler"
    local free=$(($(stat -f -c '%a * %S' "$DISK") - ${1:-0}))
    [ $free -gt 0 ] && head -c $free /dev/zero >"$DISK/filler" 2>/dev/null
  }
  # graph -o and --plot over an existing good file: the old one is kept.
  expect_ok "$NNC" graph "$XOR" -o "$DISK/g.dot"
  cp "$DISK/g.dot" "$TMP/g.orig"
  expect_ok train --epochs 2 --plot "$DISK/c.svg"
  cp "$DISK/c.svg" "$TMP/c.orig"
  fill
  expect_error "$DISK/g.dot: error: cannot write file: No space left on device" \
    "$NNC" graph "$XOR" -o "$DISK/g.dot"
  cmp -s "$DISK/g.dot" "$TMP/g.orig" || fail "graph -o truncated the old file"
  expect_error_log "$DISK/c.svg: error: cannot write file: No space left on device" \
    train --epochs 2 --plot "$DISK/c.svg" --save "$TMP/late.st"
  cmp -s "$DISK/c.svg" "$TMP/c.orig" || fail "--plot truncated the old file"
  [ -f "$TMP/late.st" ] || fail "the weights were lost with the plot"
  grep -qF "written: the weights '$TMP/late.st'; not written: the plot" "$TMP/err" ||
    fail "no note of what was written: $(cat "$TMP/err")"
  # compile -o on a full disk: no x.o.tmp left behind (checked below).
  if "$NNC" compile "$XOR" -o "$TMP/probe.o" >/dev/null 2>&1; then # LLVM
    expect_error "$DISK/x.o: error: cannot write file: No space left on device" \
      "$NNC" compile "$XOR" -o "$DISK/x.o" --header "$TMP/x.h"
  fi
  # --metrics on a disk that fills up mid-run: exit 1, whole lines only, and
  # the weights still saved.
  rm -f "$DISK"/*
  fill 4096
  expect_error_log "$DISK/m.csv: error: cannot write file: No space left on device" \
    train --epochs 300 --metrics "$DISK/m.csv" --save "$TMP/after.st"
  [ -f "$TMP/after.st" ] || fail "--save lost with the metrics"
  awk -F, 'NF != 8 { bad = 1 } END { exit bad }' "$DISK/m.csv" ||
    fail "a torn metrics line: $(tail -1 "$DISK/m.csv")"
  grep -q "^epoch 300/300" "$TMP/err" || fail "the run stopped with the metrics"
  # predict > full-disk/preds.csv
  fill
  "$NNC" predict "$XOR" --weights "$TMP/p.st" --data "$EX/data/xor.csv" \
    >"$DISK/preds.csv" 2>"$TMP/predict.err"
  rc=$?
  [ $rc -eq 1 ] && grep -q "cannot write to standard output: No space left" "$TMP/predict.err" ||
    fail "predict > full disk: exit $rc, $(cat "$TMP/predict.err")"
  no_temp_files "$DISK"
else
  echo "skip: cannot mount a tmpfs (needs root and CAP_SYS_ADMIN): full-disk cases"
fi
finish
