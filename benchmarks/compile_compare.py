#!/usr/bin/env python3
"""Cold and cached compile times of the training step, two nnc builds side
by side (issue 15): `nnc bench MODEL --batch 64 --repeats 1 --warmup 0
--fuse F --json` for each build, interleaved, ROUNDS rounds; prints medians
and ratios (B/A).

  benchmarks/compile_compare.py A_NNC B_NNC [ROUNDS]
e.g. benchmarks/compile_compare.py /work/main/build/nnc build/nnc 5
Copy the binaries first if either may be rebuilt while it runs."""
import json
import os
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
CASES = [("../examples/mnist_mlp.nn", "all"), ("../examples/mnist_mlp.nn", "none"),
         ("deep100.nn", "all"), ("deep100.nn", "none")]


def compile_times(nnc, model, fuse):
    out = subprocess.run([nnc, "bench", os.path.join(HERE, model), "--batch", "64",
                          "--repeats", "1", "--warmup", "0", "--fuse", fuse, "--json"],
                         capture_output=True, text=True, check=True).stdout
    step = [x for x in json.loads(out)["results"] if x["scope"] == "step"][0]
    return step["compile_cold_s"], step["compile_cached_s"]


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    a, b = sys.argv[1], sys.argv[2]
    rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 5
    res = {}
    for _ in range(rounds):
        for model, fuse in CASES:
            for nnc in (a, b):
                res.setdefault((model, fuse, nnc), []).append(compile_times(nnc, model, fuse))
    for model, fuse in CASES:
        ra, rb = res[(model, fuse, a)], res[(model, fuse, b)]
        ca, cb = (statistics.median(x[0] for x in r) for r in (ra, rb))
        ha, hb = (statistics.median(x[1] for x in r) for r in (ra, rb))
        print(f"{os.path.basename(model)} fuse={fuse}: cold {ca * 1e3:.0f} ms -> "
              f"{cb * 1e3:.0f} ms ({cb / ca:.2f}x); cached {ha * 1e3:.1f} ms -> "
              f"{hb * 1e3:.1f} ms ({hb / ha:.2f}x)")


if __name__ == "__main__":
    main()
