#!/usr/bin/env python3
"""The scaling model of docs/distributed.md: the speedup of data-parallel
training on N nodes over one, for a step of global batch B on a model of P
parameters, from a node's training rate and the network's time per byte.

  one node:   T1 = 6 P B / F + 10 P / F          (forward + backward, update)
  N nodes:    TN = 6 P B / (N F) + 10 P / F + 2 (N-1) a + 2 (N-1)/N 4P b
  speedup:    T1 / TN

F: FLOP/s of a node on this model; a: the latency of one message (the
reduce-scatter and the all-gather each send N-1); b: seconds per byte. The
lecture's rule of 6 FLOP per parameter and sample gives the compute.
Usage: mpi_scaling_model.py [--flops F] [--latency A] [--per-byte B]
                            [--batch B]"""
import argparse

ap = argparse.ArgumentParser()
ap.add_argument("--flops", type=float, default=100e9)
ap.add_argument("--latency", type=float, default=30e-6)
ap.add_argument("--per-byte", type=float, default=0.8e-9)
ap.add_argument("--batch", type=int, default=1024)
a = ap.parse_args()

NODES = [2, 4, 8, 16, 64, 256]
MODELS = [("mnist_mlp", 109_386), ("1M", 1e6), ("10M", 1e7), ("100M", 1e8),
          ("1B", 1e9)]


def step(p, n):
    t = 6 * p * a.batch / (n * a.flops) + 10 * p / a.flops
    if n > 1:
        t += 2 * (n - 1) * a.latency + 2 * (n - 1) / n * 4 * p * a.per_byte
    return t


print("| params | 1 node step | " + " | ".join("N=%d" % n for n in NODES) +
      " | best N |")
print("|---" * (len(NODES) + 3) + "|")
for name, p in MODELS:
    t1 = step(p, 1)
    best = max([1] + NODES, key=lambda n: t1 / step(p, n))
    cells = ["%.2fx" % (t1 / step(p, n)) for n in NODES]
    print("| %s (%s) | %.3g ms | %s | %d |" % (name, "{:,}".format(int(p)),
          1e3 * t1, " | ".join(cells), best))
