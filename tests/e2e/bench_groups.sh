#!/usr/bin/env bash
# nnc bench counts each CPU kernel group's own nodes: a step of more than 64
# SGD updates has two optimizer kernels (codegen/cpu/KernelGroups.h), and
# each gets the FLOPs of its own updates (the second once got none, the
# first all of them); every FLOP of the step is in exactly one kernel.
source "$(dirname "$0")/lib.bash"
if ! "$NNC" bench --help >/dev/null 2>&1; then
  echo "skip: this nnc has no cpu backend (no bench command)"
  exit 77
fi
export XDG_CACHE_HOME=$TMP/cache

{
  echo "a,b,c,y"
  for i in $(seq 1 16); do echo "0.$i,0.$((i % 7)),0.$((i % 3)),$((i % 3))"; done
} >"$TMP/d.csv"
{
  echo "model deep"
  echo "input x : f32[3]"
  echo "label y : class(3)"
  echo "h0 = dense(x, 3, relu)"
  for i in $(seq 1 39); do echo "h$i = dense(h$((i - 1)), 3, relu)"; done
  echo "loss cross_entropy(softmax(h39), y)"
  echo "train { data csv(\"$TMP/d.csv\", label = \"y\")  optimizer sgd(lr = 0.01)  batch 4  epochs 1 }"
} >"$TMP/deep.nn"

expect_ok "$NNC" bench "$TMP/deep.nn" --repeats 1 --warmup 0 --batch 4 \
  --fuse all --json
if "${PYTHON:-/usr/bin/python3}" - "$OUT" <<'PY'; then
import json, sys
d = json.loads(sys.argv[1])
step = [r for r in d["results"] if r["scope"] == "step"][0]
kernels = [k for k in d["results"] if k["scope"] == "kernel"]
opt = [k for k in kernels if "_optimizer" in k["name"]]
assert [k["name"] for k in opt] == ["deep_step_optimizer",
                                    "deep_step_optimizer_2"], opt
# 80 updates w - lr * g: 64 in the first kernel, 16 in the second.
assert opt[0]["flops"] > 0 and opt[1]["flops"] > 0, opt
assert abs(opt[0]["flops"] - 4 * opt[1]["flops"]) < 1e-6 * opt[0]["flops"] + 1, opt
assert abs(sum(k["flops"] for k in kernels) - step["flops"]) <= 1e-6 * step["flops"], (
    sum(k["flops"] for k in kernels), step["flops"])
PY
  echo "ok: each optimizer kernel of the deep step counts its own updates"
else
  fail "bad kernel costs"
fi
finish
