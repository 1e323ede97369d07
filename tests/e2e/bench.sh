#!/usr/bin/env bash
# nnc bench: the table and the JSON have a row per variant and per kernel,
# the fused/unfused ratio for each batch size, sane numbers (no timing is
# asserted: speed goals live in benchmarks/ and docs/performance.md), and
# bad flags get clear errors.
source "$(dirname "$0")/lib.bash"
if ! "$NNC" bench --help >/dev/null 2>&1; then
  echo "skip: this nnc has no cpu backend (no bench command)"
  exit 77
fi
export XDG_CACHE_HOME=$TMP/cache # the JIT cache and the measured peak
quick=(--repeats 3 --warmup 1)

expect_ok "$NNC" bench "$EX/mnist_mlp.nn" "${quick[@]}" --batch 37 --json
"${PYTHON:-/usr/bin/python3}" - "$OUT" <<'PY' || fail "bad bench JSON"
import json, sys
d = json.loads(sys.argv[1])
assert d["model"] == "mnist_mlp" and d["backend"] == "cpu", d
assert d["threads"] >= 1 and d["peak_gflops"] > 0, d
steps = [r for r in d["results"] if r["scope"] == "step"]
assert sorted((r["batch"], r["fuse"]) for r in steps) == [
    (37, "all"), (37, "none")], steps
for r in steps:
    assert 0 < r["min_s"] <= r["median_s"] <= r["max_s"], r
    assert r["flops"] > 0 and r["gflops"] > 0 and r["bytes"] > 0, r
    assert r["kernels"] > 0 and r["arena_bytes"] > 0, r
    assert r["compile_cached_s"] >= 0 and r["compile_cold_s"] > 0, r
    kernels = [k for k in d["results"] if k["scope"] == "kernel"
               and k["batch"] == r["batch"] and k["fuse"] == r["fuse"]]
    assert len(kernels) == r["kernels"], (r, len(kernels))
    # Every FLOP of the step is in some kernel.
    assert abs(sum(k["flops"] for k in kernels) - r["flops"]) <= 1e-6 * r["flops"], r
fused = {r["batch"]: r for r in steps if r["fuse"] == "all"}
unfused = {r["batch"]: r for r in steps if r["fuse"] == "none"}
for b in (37,):
    assert fused[b]["kernels"] < unfused[b]["kernels"], b
    assert fused[b]["bytes"] < unfused[b]["bytes"], b
ratios = {r["batch"]: r["unfused_over_fused"] for r in d["ratios"]}
assert sorted(ratios) == [37] and all(v > 0 for v in ratios.values()), ratios
print("bench json ok:", len(d["results"]), "rows")
PY

expect_ok "$NNC" bench "$EX/xor.nn" "${quick[@]}" --threads 1 --batch 4,9
for want in "1 thread;" "GFLOP/s" "%peak" "batch 4: unfused/fused step time" \
    "batch 9: unfused/fused step time" "kernels at batch 9, --fuse=none"; do
  [[ $OUT == *"$want"* ]] || fail "bench table lacks '$want':"$'\n'"$OUT"
done

expect_error "invalid value '0' for --batch" "$NNC" bench "$EX/xor.nn" --batch 0
expect_error "invalid value '8,x' for --batch" "$NNC" bench "$EX/xor.nn" --batch 8,x
expect_error "unknown fusion" "$NNC" bench "$EX/xor.nn" --fuse=dense,bogus
expect_error "--threads must be from 1 to 256" "$NNC" bench "$EX/xor.nn" --threads 0
expect_error "--repeats must be at least 1" "$NNC" bench "$EX/xor.nn" --repeats 0
expect_error "--warmup at least 0" "$NNC" bench "$EX/xor.nn" --warmup -1
expect_error "no CUDA device found" "$NNC" bench "$EX/xor.nn" --backend=cuda
expect_error "no CUDA device found" "$NNC" bench "$EX/xor.nn" --backend=cuda --precision tf32
expect_error "--precision=tf32 is for the cuda backend" "$NNC" bench "$EX/xor.nn" --precision tf32
expect_error "times the cpu and cuda backends" "$NNC" bench "$EX/xor.nn" --backend=interp
finish
