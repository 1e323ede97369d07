#!/usr/bin/env python3
"""compare_jax.py - mnist_mlp trained by JAX/XLA on the CPU: the step jitted, and the epoch as one lax.scan.

The network and recipe of examples/mnist_mlp.nn (784-128-64-10, relu,
softmax cross-entropy, SGD lr 0.05 momentum 0.9 as PyTorch does it, L2 1e-4
on the weights as nnc's AddL2 adds it to the loss: 1e-4 * sum(w * w), batch
64, shuffled each epoch, no validation split) on the same Fashion-MNIST IDX
files, written as a JAX user would. Weights are [in, out], initialized as
nnc does (He normal for the relu layers, Xavier uniform for the last, zero
biases). Every epoch visits all 60,000 rows, the last partial batch too (as
nnc does): it has its own shape, so its step is compiled once more.

Two modes, each timed on its own:
  step   the whole train step (forward, gradients, SGD update, the batch
         gathered from the device-resident data by its row indices) under
         jax.jit, called once per batch from a Python loop
  scan   the whole epoch as one jitted program: jax.lax.scan of the step
         over the batches of the shuffled index list (the gather inside),
         then the last partial batch
Per mode it prints the compile time (cold: JAX's persistent compilation
cache off, XLA's backend started before by a trivial program; tracing and
lowering to StableHLO apart from XLA's compile), one warm-up epoch (not
counted), then --epochs timed epochs (the shuffle included, data loading
not) and their median, and the test accuracy. The last line of each mode
reads "result: MODE median S s/epoch, compile C s" (for epoch_compare.sh).

Threads: --threads N (default 2) pins the process to N cores
(sched_setaffinity, where the machine has more) and sets
XLA_FLAGS=--xla_cpu_multi_thread_eigen=true and
intra_op_parallelism_threads=N before jax is imported (an XLA_FLAGS already
in the environment is kept and these appended).

  python benchmarks/compare_jax.py [--mode scan,step] [--batch 64]
      [--epochs 3] [--threads 2] [--data DIR] [--compile-only]

--compile-only prints "result: MODE compile C s (...)" per mode and trains
nothing (for side-by-side compile times with nnc's).

Needs jax (benchmarks/make_venv.sh makes an environment with it); without
it the script says so and exits 2.
"""

import argparse
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from compare_pytorch import DEFAULT_DATA, read_idx  # noqa: E402

LR, MOMENTUM, L2 = 0.05, 0.9, 1e-4
LAYERS = ((784, 128), (128, 64), (64, 10))


def fail(message):
    sys.exit(f"compare_jax.py: error: {message}")


def setup_threads(threads):
    """Before jax is imported: XLA reads XLA_FLAGS once, at start-up."""
    cores = sorted(os.sched_getaffinity(0))
    if threads < len(cores):
        os.sched_setaffinity(0, cores[:threads])
    flags = os.environ.get("XLA_FLAGS", "")
    os.environ["XLA_FLAGS"] = (flags + " --xla_cpu_multi_thread_eigen=true"
                               f" intra_op_parallelism_threads={threads}").strip()


def load(data, prefix):
    import numpy as np

    def find(stem):
        for p in (stem + ".gz", stem):
            if os.path.exists(p):
                return p
        fail(f"{stem}[.gz]: no such file")

    images = read_idx(find(os.path.join(data, prefix + "-images-idx3-ubyte")))
    labels = read_idx(find(os.path.join(data, prefix + "-labels-idx1-ubyte")))
    x = images.reshape(len(images), 784).astype(np.float32) / np.float32(255)
    return x, labels.astype(np.int32)


def init_params(jax, jnp, seed):
    """nnc's initialization: He normal (relu layers), Xavier uniform (last)."""
    keys = jax.random.split(jax.random.PRNGKey(seed), len(LAYERS))
    params = []
    for i, ((fan_in, fan_out), key) in enumerate(zip(LAYERS, keys)):
        if i + 1 < len(LAYERS):
            w = jax.random.normal(key, (fan_in, fan_out)) * (2.0 / fan_in) ** 0.5
        else:
            limit = (6.0 / (fan_in + fan_out)) ** 0.5
            w = jax.random.uniform(key, (fan_in, fan_out), minval=-limit,
                                   maxval=limit)
        params += [w.astype(jnp.float32), jnp.zeros((fan_out,), jnp.float32)]
    return params


def make_step(jax, jnp):
    """The whole training step on the rows `idx` of the data (x, y)."""

    def logits(p, x):
        h = jax.nn.relu(x @ p[0] + p[1])
        h = jax.nn.relu(h @ p[2] + p[3])
        return h @ p[4] + p[5]

    def loss_fn(p, x, y):
        logp = jax.nn.log_softmax(logits(p, x))
        ce = -jnp.mean(jnp.take_along_axis(logp, y[:, None], axis=1))
        return ce + L2 * sum(jnp.sum(w * w) for w in p[0::2])

    def step(p, v, x_all, y_all, idx):
        loss, g = jax.value_and_grad(loss_fn)(p, x_all[idx], y_all[idx])
        v = [MOMENTUM * vi + gi for vi, gi in zip(v, g)]
        p = [pi - LR * vi for pi, vi in zip(p, v)]
        return p, v, loss

    return step, logits


def make_epoch(jax, jnp, step, rows, batch):
    """The epoch as one program: scan over the full batches, then the rest."""
    full = rows // batch

    def epoch(p, v, x_all, y_all, perm):
        def body(carry, idx):
            p, v, loss = step(carry[0], carry[1], x_all, y_all, idx)
            return (p, v), loss

        (p, v), losses = jax.lax.scan(
            body, (p, v), perm[:full * batch].reshape(full, batch))
        loss = losses[-1]
        if rows % batch:
            p, v, loss = step(p, v, x_all, y_all, perm[full * batch:])
        return p, v, loss

    return epoch


def timed_compile(jax, fn, *args):
    """AOT: (compiled, seconds to trace + lower, seconds of XLA's compile)."""
    t0 = time.perf_counter()
    lowered = jax.jit(fn).lower(*args)
    t1 = time.perf_counter()
    compiled = lowered.compile()
    return compiled, t1 - t0, time.perf_counter() - t1


def run_mode(mode, args, jax, jnp, data):
    import numpy as np
    x, y, tx, ty = data
    rows, batch = len(x), args.batch
    step, logits = make_step(jax, jnp)
    params = init_params(jax, jnp, args.seed)
    vel = [jnp.zeros_like(p) for p in params]
    rng = np.random.default_rng(args.seed)
    perm0 = jnp.asarray(rng.permutation(rows).astype(np.int32))

    if mode == "step":
        fn, lower_s, compile_s = timed_compile(jax, step, params, vel, x, y,
                                               perm0[:batch])
        rest = None
        if rows % batch:  # the last partial batch's shape: compiled apart
            rest, _, _ = timed_compile(jax, step, params, vel, x, y,
                                       perm0[:rows % batch])
    else:
        fn, lower_s, compile_s = timed_compile(
            jax, make_epoch(jax, jnp, step, rows, batch), params, vel, x, y, perm0)
    if args.compile_only:
        print(f"result: {mode} compile {lower_s + compile_s:.3f} s (trace + "
              f"lower {lower_s:.3f} s, XLA compile {compile_s:.3f} s), "
              f"batch {batch}", flush=True)
        return

    seconds = []
    for e in range(args.epochs + 1):  # epoch 0 warms up
        t0 = time.perf_counter()
        perm = rng.permutation(rows).astype(np.int32)
        if mode == "scan":
            params, vel, loss = fn(params, vel, x, y, jnp.asarray(perm))
        else:
            for start in range(0, rows - batch + 1, batch):
                params, vel, loss = fn(params, vel, x, y, perm[start:start + batch])
            if rest is not None:
                params, vel, loss = rest(params, vel, x, y,
                                         perm[rows - rows % batch:])
        loss.block_until_ready()
        seconds.append(time.perf_counter() - t0)
        if not np.isfinite(float(loss)):
            fail(f"{mode}: the loss is {float(loss)} after epoch {e}")
    accuracy = float(jnp.mean(jnp.argmax(logits(params, tx), 1) == ty))
    median = statistics.median(seconds[1:])
    print(f"jax {mode}: batch {batch}, compile {lower_s + compile_s:.3f} s "
          f"(trace + lower {lower_s:.3f} s, XLA compile {compile_s:.3f} s), "
          f"warm-up epoch {seconds[0]:.3f} s, epochs "
          + ", ".join(f"{s:.3f}" for s in seconds[1:])
          + f" s, last loss {float(loss):.4f}, test accuracy {accuracy:.4f}")
    print(f"result: {mode} median {median:.4f} s/epoch, "
          f"compile {lower_s + compile_s:.3f} s", flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--mode", default="scan,step",
                    help="comma-separated modes: scan, step (scan,step)")
    ap.add_argument("--batch", type=int, default=64, help="batch size (64)")
    ap.add_argument("--epochs", type=int, default=3,
                    help="timed epochs after the warm-up epoch (3)")
    ap.add_argument("--threads", type=int, default=2, help="threads (2)")
    ap.add_argument("--seed", type=int, default=42, help="seed (42)")
    ap.add_argument("--compile-only", action="store_true",
                    help="print the compile times only, train nothing")
    ap.add_argument("--data", default=DEFAULT_DATA,
                    help="folder of the IDX files (train-*, t10k-*)")
    args = ap.parse_args()
    modes = args.mode.split(",")
    for m in modes:
        if m not in ("scan", "step"):
            ap.error(f"unknown mode '{m}': want scan or step")
    if args.batch < 1 or args.epochs < 1 or args.threads < 1:
        ap.error("--batch, --epochs and --threads must be at least 1")

    setup_threads(args.threads)
    try:
        import jax
        import jax.numpy as jnp
    except ImportError:
        print("compare_jax.py: jax is not installed here (make an environment "
              "with benchmarks/make_venv.sh): skipped", file=sys.stderr)
        sys.exit(2)
    jax.config.update("jax_enable_compilation_cache", False)
    jax.config.update("jax_platforms", "cpu")
    print(f"jax {jax.__version__}, devices {jax.devices()}, "
          f"XLA_FLAGS='{os.environ['XLA_FLAGS']}', "
          f"cores {sorted(os.sched_getaffinity(0))}", flush=True)
    jax.jit(lambda a: a + 1)(jnp.zeros(4)).block_until_ready()  # backend up

    x, y = load(args.data, "train")
    tx, ty = load(args.data, "t10k")
    data = (jnp.asarray(x), jnp.asarray(y), jnp.asarray(tx), jnp.asarray(ty))
    if args.batch > len(x):
        ap.error(f"--batch {args.batch} is more than the {len(x)} rows")
    for m in modes:
        run_mode(m, args, jax, jnp, data)


if __name__ == "__main__":
    main()
