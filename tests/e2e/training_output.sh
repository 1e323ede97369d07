#!/usr/bin/env bash
# What nnc train prints: plain lines without control characters when stderr
# is not a terminal (logs, CI); a progress bar redrawn with carriage returns
# on a terminal, coloured unless NO_COLOR is set; --plot draws the curves
# as an SVG that is well-formed XML with one <path> per curve.
source "$(dirname "$0")/lib.bash"

# Not a terminal: stderr is a file, one plain line per epoch.
expect_ok "$NNC" train "$EX/xor.nn" --epochs 30 --backend interp \
  --metrics "$TMP/xor.csv" --plot "$TMP/xor.svg"
cp "$TMP/stderr" "$TMP/plain.log"
grep -q '^epoch 30/30  loss [0-9.]*  acc [0-9.]*%' "$TMP/plain.log" ||
  fail "no plain epoch line:"$'\n'"$(cat "$TMP/plain.log")"
lines=$(grep -c '^epoch [0-9]*/30  loss' "$TMP/plain.log")
[ "$lines" = 30 ] || fail "$lines epoch lines for 30 epochs:"$'\n'"$(cat "$TMP/plain.log")"
if LC_ALL=C grep -q -P '[\x00-\x08\x0B-\x1F\x7F]' "$TMP/plain.log"; then
  fail "control characters in a non-terminal log:"$'\n'"$(cat -A "$TMP/plain.log")"
else
  echo "ok: no control characters when stderr is a file"
fi

# The plot: well-formed XML, one path per curve that has values (xor holds
# nothing out: train loss and train accuracy only).
check_svg() { # FILE WANTED-CURVE-NAMES...
  /usr/bin/python3 - "$@" <<'PY'
import sys, xml.dom.minidom
doc = xml.dom.minidom.parse(sys.argv[1])
paths = doc.getElementsByTagName("path")
names = sorted(p.getAttribute("data-name") for p in paths)
want = sorted(sys.argv[2:])
if names != want:
    sys.exit(f"{sys.argv[1]}: paths {names}, want {want}")
for p in paths:
    if len(p.getAttribute("d").split("L")) < 2:
        sys.exit(f"{sys.argv[1]}: curve {p.getAttribute('data-name')} has one point")
print(f"ok: {sys.argv[1]}: {len(paths)} curves: {', '.join(names)}")
PY
}
check_svg "$TMP/xor.svg" "train loss" "train accuracy" || fail "xor plot"

# With a validation split all four curves are drawn.
expect_ok "$NNC" train "$EX/churn.nn" --epochs 20 --validation 0.4 \
  --backend interp --plot "$TMP/churn.svg"
check_svg "$TMP/churn.svg" "train loss" "train accuracy" "validation loss" \
  "validation accuracy" || fail "churn plot"

expect_error "cannot write the plot" "$NNC" train "$EX/xor.nn" --epochs 1 \
  --backend interp --plot "$TMP/no/such/dir/x.svg"

# A terminal (through script(1), where installed): the bar, coloured unless
# NO_COLOR is set.
if command -v script >/dev/null; then
  cmd="'$NNC' train '$EX/xor.nn' --epochs 3 --backend interp"
  script -qec "$cmd" /dev/null >"$TMP/tty.log" 2>&1 </dev/null ||
    fail "training under script(1) failed"
  grep -q $'\r''epoch 1/3 \[' "$TMP/tty.log" || fail "no progress bar on a terminal"
  grep -q $'\e''\[32m' "$TMP/tty.log" || fail "no colour on a terminal"
  NO_COLOR=1 script -qec "$cmd" /dev/null >"$TMP/nocolor.log" 2>&1 </dev/null
  grep -q $'\r''epoch 1/3 \[' "$TMP/nocolor.log" || fail "no bar with NO_COLOR"
  if grep -q $'\e''\[3[0-9]m' "$TMP/nocolor.log"; then
    fail "colour despite NO_COLOR"
  else
    echo "ok: progress bar on a terminal, no colour with NO_COLOR"
  fi
else
  echo "note: script(1) is missing: the terminal progress bar is not tested"
fi
finish
