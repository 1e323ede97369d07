#!/usr/bin/env bash
# nnc play: the playground page. Its numbers are the compiler's: the last
# moment's prediction over the grid equals `nnc predict` with the trained
# weights on the same grid (to 1e-6). In headless Chromium (skipped, 77,
# where it is missing) the page loads without console errors, the slider
# moves through every recorded moment, and a screenshot at the last moment
# of xor shows the hidden units' maps (coloured pixels counted in their
# box). mnist_mlp (not 2-D) says why the plane is not drawn and shows its
# first layer's weights; its run of 2 epochs of 4 steps keeps every step.
source "$(dirname "$0")/lib.bash"
export XDG_CACHE_HOME=$TMP/cache
PY=${PYTHON:-python3}

expect_error "needs -o FILE.html" "$NNC" play "$EX/xor.nn"
expect_error "--frames must be from 2 to 1001" \
  "$NNC" play "$EX/xor.nn" -o "$TMP/x.html" --frames 1
expect_error "--limit must be at least 1" \
  "$NNC" play "$EX/xor.nn" -o "$TMP/x.html" --limit 0
printf 'a,b,c,y\n1,2,3,0\n' >"$TMP/three.csv"
expect_error "three.csv" "$NNC" play "$EX/xor.nn" -o "$TMP/x.html" \
  --data "$TMP/three.csv"
[ -e "$TMP/x.html" ] && fail "a failed run left a page behind"

expect_ok "$NNC" play "$EX/xor.nn" -o "$TMP/xor.html" --save "$TMP/xor.safetensors" ||
  { finish; }
grep -q 'wrote .*xor.html (.* bytes, 61 moments)' "$TMP/stderr" ||
  fail "xor: not 61 moments: $(cat "$TMP/stderr")"
grep -Eq '(src|href)="https?:' "$TMP/xor.html" && fail "the page fetches from the network"

# The page's numbers against nnc predict on the page's own grid.
"$PY" - "$TMP/xor.html" "$TMP" <<'EOF' || fail "cannot read the page's data"
import base64, json, re, struct, sys
html = open(sys.argv[1]).read()
m = re.search(r'<script id="play-data" type="application/json">(.*?)</script>', html, re.S)
d = json.loads(m.group(1))
assert d["plane"] and d["n"] == 64, "no 64 x 64 plane"
f = d["frames"]
assert f[0]["epoch"] == 0 and f[-1]["epoch"] == 300, [x["epoch"] for x in f]
assert all(x["scalar"] and "update" in x["scalar"] for x in f), "a moment lacks its step"
assert [l["width"] for l in d["layers"]] == [4, 1]
pred = struct.unpack("<%df" % (64 * 64), base64.b64decode(f[-1]["pred"]))
with open(sys.argv[2] + "/grid.csv", "w") as g:
    g.write("a,b\n")
    for y in d["ys"]:
        for x in d["xs"]:
            g.write("%.9g,%.9g\n" % (x, y))
with open(sys.argv[2] + "/page_pred.txt", "w") as g:
    g.write("\n".join("%.9g" % p for p in pred) + "\n")
EOF
expect_ok "$NNC" predict "$EX/xor.nn" --weights "$TMP/xor.safetensors" \
  --data "$TMP/grid.csv" && echo "$OUT" >"$TMP/predict.csv"
"$PY" - "$TMP/page_pred.txt" "$TMP/predict.csv" <<'EOF' || fail "the page's map is not nnc predict's"
import sys
page = [float(l) for l in open(sys.argv[1])]
rows = open(sys.argv[2]).read().split("\n")[1:]
pred = [float(r.split(",")[2]) for r in rows if r]
assert len(pred) == len(page) == 4096, (len(pred), len(page))
worst = max(abs(a - b) for a, b in zip(page, pred))
assert worst <= 1e-6, f"worst difference {worst}"
lo, hi = min(page), max(page)
assert lo < 0.1 and hi > 0.9, f"the map is not trained: {lo} .. {hi}"
print(f"ok: 4096 grid values equal nnc predict (worst {worst:.2g})")
EOF

# mnist_mlp: no plane; the first layer's 128 weight vectors as 28 x 28 images.
if [ -f "$FMNIST/train-images-idx3-ubyte.gz" ] || [ -f "$FMNIST/train-images-idx3-ubyte" ]; then
  expect_ok "$NNC" play "$EX/mnist_mlp.nn" -o "$TMP/mnist.html" --epochs 2 \
    --limit 256 --batch 64
  grep -q 'id="why">This page cannot draw the input plane: its input .*x.* is f32\[N,784\]: 784 values' \
    "$TMP/mnist.html" || fail "mnist: no note why the plane is not drawn"
  grep -q '<canvas id="weights">' "$TMP/mnist.html" &&
    grep -q 'fc1.weight (784 x 128)' "$TMP/mnist.html" || fail "mnist: no weight images"
else
  echo "note: no Fashion-MNIST: the page of a model without a plane is not checked"
fi

chrome=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$chrome" ]; then
  echo "SKIP: Chromium is not installed (Debian chromium): the page is not rendered"
  [ "$failures" -eq 0 ] || finish
  exit 77
fi
run_chrome() { # URL, then extra flags; stderr (console) to $TMP/console.log
  local url=$1
  shift
  timeout 60 "$chrome" --headless --no-sandbox --disable-gpu \
    --user-data-dir="$TMP/chrome" --enable-logging=stderr --v=0 \
    --window-size=1280,800 "$@" "$url" 2>"$TMP/console.log"
}
printf '<!DOCTYPE html><html><body><script>noSuchFunction();</script></body></html>' \
  >"$TMP/broken.html"
run_chrome "file://$TMP/broken.html" --dump-dom >/dev/null
grep -q 'CONSOLE.*Uncaught ReferenceError: noSuchFunction' "$TMP/console.log" ||
  fail "the console check does not catch a deliberate error"

# Every moment, through the slider's input events.
run_chrome "file://$TMP/xor.html#sweep" --dump-dom >"$TMP/dom.html"
grep 'CONSOLE' "$TMP/console.log" && fail "console messages while rendering xor"
grep -q 'data-ready="yes"' "$TMP/dom.html" || fail "the page's script did not run"
grep -q 'data-sweep="ok 61 epochs 0,5,10,' "$TMP/dom.html" &&
  grep -q ',295,300"' "$TMP/dom.html" ||
  fail "the slider did not show every moment: $(grep -o 'data-sweep="[^"]*"' "$TMP/dom.html")"

# The last moment: the hidden units' maps are drawn (orange and blue).
run_chrome "file://$TMP/xor.html#frame=last" --dump-dom >"$TMP/last.html"
box=$(grep -o 'data-hidden-box="[0-9,]*"' "$TMP/last.html" | grep -o '[0-9,]*' | tr , ' ')
grep -q 'data-frame="60"' "$TMP/last.html" || fail "#frame=last is not moment 60"
run_chrome "file://$TMP/xor.html#frame=last" --screenshot="$TMP/xor.png" >/dev/null
if [ -z "$box" ] || [ ! -s "$TMP/xor.png" ]; then
  fail "no screenshot or no box of the hidden units"
else
  px=$("$PY" "$NNC_SOURCE_DIR/tests/e2e/png_pixels.py" "$TMP/xor.png" $box)
  read -r c b o t <<<"$(echo "$px" | tr -dc '0-9 \n' | tr -s ' ')"
  echo "hidden units' box ($box): $px"
  if [ "$t" -gt 0 ] && [ $((c * 4)) -ge "$t" ] && [ "$b" -gt 50 ] && [ "$o" -gt 50 ]; then
    echo "ok: the hidden units' maps are drawn"
  else
    fail "the hidden units' maps look blank: $px"
  fi
  [ -n "${NNC_KEEP_SCREENSHOT:-}" ] && cp "$TMP/xor.png" "$NNC_KEEP_SCREENSHOT"
fi

if [ -f "$TMP/mnist.html" ]; then
  run_chrome "file://$TMP/mnist.html#sweep" --dump-dom >"$TMP/mdom.html"
  grep 'CONSOLE' "$TMP/console.log" && fail "console messages while rendering mnist"
  grep -q 'data-sweep="ok 9 epochs 0,0.25,0.50,0.75,1,1.25,1.50,1.75,2"' "$TMP/mdom.html" ||
    fail "mnist: the slider did not show every moment"
fi
finish
