#!/usr/bin/env bash
# nnc report: one self-contained HTML page. Opened in headless Chromium it
# renders with no console errors (checked to catch a deliberate one first),
# its script runs, and the DOM holds the graphs (inline SVG from dot, or
# DOT text where dot is missing), the training curves and the benchmark
# table; a screenshot is kept in the test's temp dir (copied to
# $NNC_KEEP_SCREENSHOT when set). Skipped (77) where Chromium is missing.
source "$(dirname "$0")/lib.bash"
export XDG_CACHE_HOME=$TMP/cache

# Without Chromium: the page itself and the errors are still checked.
expect_ok "$NNC" report "$EX/xor.nn" -o "$TMP/xor.html"
grep -q 'id="no-curves"' "$TMP/xor.html" || fail "no note on missing curves"
grep -q 'id="no-bench"' "$TMP/xor.html" || fail "no note on a missing benchmark"
grep -q 'new.out.bias\[1\] = out.bias\[1\] - lr \* new.optimizer.out.bias.momentum\[1\]' \
  "$TMP/xor.html" || fail "xor: no scalar step"
expect_ok "$NNC" report "$EX/mnist_mlp.nn" -o "$TMP/mnist.html" &&
  grep -q 'Not written out: nnc: error: explain --scalar is for small models' \
    "$TMP/mnist.html" || fail "mnist_mlp: no note why one step is not written out"
grep -Eq '(src|href)="https?:' "$TMP/xor.html" && fail "the page fetches from the network"
expect_error "needs -o FILE.html" "$NNC" report "$EX/xor.nn"
env PATH=/nonexistent "$NNC" report "$EX/xor.nn" -o "$TMP/nodot.html" 2>/dev/null ||
  fail "report without dot failed"
grep -q 'id="graph-fused"><pre class="dot">digraph' "$TMP/nodot.html" ||
  fail "without dot the graphs are not shown as DOT text"
printf 'epoch,loss\n1,2\n' >"$TMP/bad.csv"
expect_error "not a metrics file of nnc train --metrics" \
  "$NNC" report "$EX/xor.nn" -o "$TMP/x.html" --metrics "$TMP/bad.csv"
printf '{"results": 3}' >"$TMP/bad.json"
expect_error 'no "results" array' \
  "$NNC" report "$EX/xor.nn" -o "$TMP/x.html" --bench "$TMP/bad.json"
expect_error "none.json: error: cannot open" \
  "$NNC" report "$EX/xor.nn" -o "$TMP/x.html" --bench "$TMP/none.json"

chrome=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$chrome" ]; then
  echo "SKIP: Chromium is not installed (Debian chromium): the page is not" \
    "rendered"
  [ "$failures" -eq 0 ] || finish
  exit 77
fi
run_chrome() { # URL, then extra flags; stderr (console) to $TMP/console.log
  local url=$1
  shift
  timeout 60 "$chrome" --headless --no-sandbox --disable-gpu \
    --user-data-dir="$TMP/chrome" --enable-logging=stderr --v=0 "$@" "$url" \
    2>"$TMP/console.log"
}

# The console check must see a JavaScript error when there is one.
printf '<!DOCTYPE html><html><body><script>noSuchFunction();</script></body></html>' \
  >"$TMP/broken.html"
run_chrome "file://$TMP/broken.html" --dump-dom >/dev/null
grep -q 'CONSOLE.*Uncaught ReferenceError: noSuchFunction' "$TMP/console.log" ||
  fail "the console check does not catch a deliberate error:"$'\n'"$(cat "$TMP/console.log")"

# A real run and a benchmark (where the CPU backend is built in).
expect_ok "$NNC" train "$EX/churn.nn" --epochs 20 --validation 0.4 \
  --backend interp --metrics "$TMP/churn.csv"
bench=()
if "$NNC" bench "$EX/churn.nn" --json --repeats 3 --warmup 1 \
  >"$TMP/bench.json" 2>"$TMP/bench.err"; then
  bench=(--bench "$TMP/bench.json")
else
  echo "note: no benchmark table: $(cat "$TMP/bench.err")"
fi
expect_ok "$NNC" report "$EX/churn.nn" -o "$TMP/churn.html" \
  --metrics "$TMP/churn.csv" "${bench[@]}"

# Two runs side by side: one plot, a curve per run and metric, each run in
# the table by its file's name, and a bad second file still an error.
expect_ok "$NNC" train "$EX/churn.nn" --epochs 12 --lr 0.005 --backend interp \
  --metrics "$TMP/slow.csv"
expect_ok "$NNC" report "$EX/churn.nn" -o "$TMP/two.html" \
  --metrics "$TMP/churn.csv" --metrics "$TMP/slow.csv"
[ "$(grep -c '<svg' "$TMP/two.html")" -ge 1 ] || fail "no plot of two runs"
grep -q 'data-name="churn train"' "$TMP/two.html" &&
  grep -q 'data-name="slow train"' "$TMP/two.html" &&
  grep -q 'data-name="churn val"' "$TMP/two.html" &&
  grep -q '<td>slow</td><td>12</td>' "$TMP/two.html" ||
  fail "the two runs are not both drawn and listed"
expect_error "not a metrics file of nnc train --metrics" \
  "$NNC" report "$EX/churn.nn" -o "$TMP/x.html" --metrics "$TMP/churn.csv" \
  --metrics "$TMP/bad.csv"

run_chrome "file://$TMP/churn.html" --dump-dom >"$TMP/dom.html"
if grep 'CONSOLE' "$TMP/console.log"; then
  fail "console messages while rendering the report"
else
  echo "ok: no console errors"
fi
grep -q 'data-ready="yes"' "$TMP/dom.html" || fail "the page's script did not run"
for stage in forward grad fused; do
  grep -Eq "id=\"graph-$stage\">[[:space:]]*(<svg|<pre class=\"dot\">digraph)" "$TMP/dom.html" ||
    fail "no $stage graph in the DOM"
done
grep -q 'kernel %z = fused.dense {act = none}' "$TMP/dom.html" ||
  fail "the fused graph lacks its kernel clusters"
curves=$(grep -o '<path class="curve"' "$TMP/dom.html" | wc -l)
[ "$curves" -eq 4 ] || fail "want 4 training curves in the DOM, found $curves"
grep -q 'd.w = x^T @ d.z' "$TMP/dom.html" || fail "no explain view"
grep -q 'new.b = b - lr \* d.b = 0.4 - 0.02 \* (0.571012) = 0.38858' "$TMP/dom.html" ||
  fail "no scalar step"
grep -q 'define internal void @z_fused_dense' "$TMP/dom.html" ||
  grep -q 'without the CPU backend' "$TMP/dom.html" || fail "no LLVM IR per kernel"
grep -q '__global__' "$TMP/dom.html" || fail "no CUDA C per kernel"
if [ ${#bench[@]} -gt 0 ]; then
  grep -q '<th>unfused_over_fused</th>' "$TMP/dom.html" || fail "no fused/unfused ratios"
fi
echo "ok: graphs, curves ($curves paths), explain, code and benchmark in the DOM"

run_chrome "file://$TMP/churn.html" --screenshot="$TMP/report.png" \
  --window-size=1280,2400 >/dev/null
if [ "$(head -c 4 "$TMP/report.png" 2>/dev/null | od -An -c | tr -d ' ')" = '211PNG' ]; then
  echo "ok: screenshot $TMP/report.png ($(wc -c <"$TMP/report.png") bytes)"
  [ -n "${NNC_KEEP_SCREENSHOT:-}" ] && cp "$TMP/report.png" "$NNC_KEEP_SCREENSHOT"
else
  fail "no screenshot"
fi
finish
