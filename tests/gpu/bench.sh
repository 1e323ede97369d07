#!/usr/bin/env bash
# nnc bench --backend=cuda on a GPU: the JSON has the device and its peak,
# a row per variant and per kernel (every FLOP of the step in some kernel),
# fewer kernels and bytes fused than unfused, and the ratio. No timing is
# asserted (speed figures live in docs/performance.md and docs/cuda.md).
source "$(dirname "$0")/lib.bash"
export XDG_CACHE_HOME=$TMP/cache
expect_ok "$NNC" bench "$EX/mnist_mlp.nn" --backend=cuda --repeats 5 \
  --warmup 2 --batch 37,64 --json || finish
"${PYTHON:-/usr/bin/python3}" - "$OUT" <<'PY' || fail "bad bench JSON"
import json, sys
d = json.loads(sys.argv[1])
assert d["backend"] == "cuda" and d["device"] and d["peak_gflops"] > 0, d
steps = [r for r in d["results"] if r["scope"] == "step"]
assert len(steps) == 4, steps
for r in steps:
    assert 0 < r["min_s"] <= r["median_s"] <= r["max_s"], r
    assert r["kernels"] > 0 and r["arena_bytes"] > 0, r
    kernels = [k for k in d["results"] if k["scope"] == "kernel"
               and k["batch"] == r["batch"] and k["fuse"] == r["fuse"]]
    assert len(kernels) == r["kernels"], (r, len(kernels))
    assert all(k["median_s"] > 0 for k in kernels), kernels
    assert abs(sum(k["flops"] for k in kernels) - r["flops"]) <= 1e-6 * r["flops"], r
for b in (37, 64):
    f, u = [next(r for r in steps if r["batch"] == b and r["fuse"] == x)
            for x in ("all", "none")]
    assert f["kernels"] < u["kernels"] and f["bytes"] < u["bytes"], (f, u)
assert len(d["ratios"]) == 2, d["ratios"]
print("cuda bench json ok:", len(d["results"]), "rows")
PY
expect_ok "$NNC" bench "$EX/xor.nn" --backend=cuda --repeats 3 --batch 4,9
for want in "training step on cuda" "CUDA events" "batch 9: unfused/fused"; do
  [[ $OUT == *"$want"* ]] || fail "bench table lacks '$want':"$'\n'"$OUT"
done
finish
