#!/usr/bin/python3
"""compare_pytorch.py - mnist_mlp trained by PyTorch, eager and torch.compile, at several threadings.

The network and recipe of examples/mnist_mlp.nn (784-128-64-10, relu,
softmax cross-entropy, SGD lr 0.05 momentum 0.9, L2 1e-4 on the weights,
batch 64, shuffled each epoch, no validation split) on the same
Fashion-MNIST files, written as a PyTorch user would: nn.Sequential of
nn.Linear, CrossEntropyLoss, torch.optim.SGD (the L2 term's gradient,
2 * 1e-4 * w, as weight_decay on the weights only). Every epoch visits all
60,000 rows, the last partial batch too.

Two variants of the training step (zero_grad, forward, loss, backward,
optimizer step): `eager`, and `compile`, the same step function under
torch.compile (Inductor, dynamic=False: the last partial batch compiles
once more). torch.compile came in PyTorch 2.0: with an older torch (Debian's
1.13) the compile variant is reported as skipped and the rest runs.

Each threading setup (torch threads, OPENBLAS_NUM_THREADS set or not) and
variant runs in its own process, because BLAS and OpenMP read their
environment when torch is imported. Runs are interleaved over the repeats
(the machine is noisy). Each run trains --warmup epochs first (not timed:
torch.compile compiles in them), then --epochs timed ones (data loading not
included). The script prints torch's version, each run's epoch times, each
setup's median seconds per epoch and which setup is best per variant.

  python3 benchmarks/compare_pytorch.py [--epochs 1] [--warmup 1]
      [--repeats 2] [--setups 1:1,2:1,1:unset,2:unset]
      [--variants eager,compile] [--batch 64] [--data DIR]

Debian's /usr/bin/python3 has torch 1.13 (eager only); the environment of
benchmarks/make_venv.sh has a current torch (both variants). A setup is
TORCH_THREADS:OPENBLAS (a thread count, or `unset` to leave
OPENBLAS_NUM_THREADS out of the environment). The last lines read
"best VARIANT: torch threads T, OPENBLAS_NUM_THREADS=X: median S s/epoch",
or "skipped VARIANT: why".
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

DEFAULT_DATA = "/usr/share/datasets/fashion-mnist"


def parse_setup(text):
    try:
        threads, blas = text.split(":")
        threads = int(threads)
        if threads < 1 or (blas != "unset" and int(blas) < 1):
            raise ValueError
        return threads, blas
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"bad setup '{text}': want TORCH_THREADS:OPENBLAS, e.g. 2:1 or 2:unset")


def describe(setup):
    threads, blas = setup
    return f"torch threads {threads}, OPENBLAS_NUM_THREADS={blas}"


# ---------------------------------------------------------------- the child


def read_idx(path):
    import gzip
    import numpy as np
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    if data[0] != 0 or data[1] != 0 or data[2] != 8:
        sys.exit(f"compare_pytorch.py: error: {path}: not an IDX file of bytes")
    ndim = data[3]
    dims = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def load(prefix):
    import torch

    def find(stem):
        for p in (stem + ".gz", stem):
            if os.path.exists(p):
                return p
        sys.exit(f"compare_pytorch.py: error: {stem}[.gz]: no such file")

    images = read_idx(find(prefix + "-images-idx3-ubyte"))
    labels = read_idx(find(prefix + "-labels-idx1-ubyte"))
    x = torch.from_numpy(images.reshape(len(images), 784).astype("float32") / 255.0)
    y = torch.from_numpy(labels.astype("int64"))
    return x, y


def mnist_mlp(torch, device="cpu"):
    """examples/mnist_mlp.nn as PyTorch writes it: the model (initialized as
    nnc does), its SGD optimizer (L2 on the weights only) and its loss."""
    model = torch.nn.Sequential(
        torch.nn.Linear(784, 128), torch.nn.ReLU(),
        torch.nn.Linear(128, 64), torch.nn.ReLU(),
        torch.nn.Linear(64, 10))
    torch.nn.init.kaiming_normal_(model[0].weight, nonlinearity="relu")
    torch.nn.init.kaiming_normal_(model[2].weight, nonlinearity="relu")
    torch.nn.init.xavier_uniform_(model[4].weight)
    for i in (0, 2, 4):
        torch.nn.init.zeros_(model[i].bias)
    model = model.to(device)
    weights = [model[i].weight for i in (0, 2, 4)]
    biases = [model[i].bias for i in (0, 2, 4)]
    opt = torch.optim.SGD([{"params": weights, "weight_decay": 2 * 1e-4},
                           {"params": biases, "weight_decay": 0.0}],
                          lr=0.05, momentum=0.9)
    return model, opt, torch.nn.CrossEntropyLoss()


def make_step(torch, model, opt, loss_fn, variant):
    """The whole training step; under torch.compile for variant `compile`."""
    def step(xb, yb):
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(model(xb), yb)
        loss.backward()
        opt.step()
        return loss

    return torch.compile(step, dynamic=False) if variant == "compile" else step


def child(args):
    import torch
    if args.variant == "compile" and not hasattr(torch, "compile"):
        print(json.dumps({"skipped": f"torch {torch.__version__} has no "
                          "torch.compile (it came in PyTorch 2.0)",
                          "torch": torch.__version__}))
        return
    torch.set_num_threads(args.threads)
    torch.manual_seed(42)
    x, y = load(os.path.join(args.data, "train"))
    tx, ty = load(os.path.join(args.data, "t10k"))

    model, opt, loss_fn = mnist_mlp(torch)
    step = make_step(torch, model, opt, loss_fn, args.variant)
    batch = args.batch
    seconds = []
    for _ in range(args.warmup + args.epochs):
        t0 = time.perf_counter()
        order = torch.randperm(len(x))
        for start in range(0, len(x), batch):
            idx = order[start:start + batch]
            loss = step(x[idx], y[idx])
        loss.item()
        seconds.append(time.perf_counter() - t0)
    with torch.no_grad():
        accuracy = (model(tx).argmax(1) == ty).float().mean().item()
    print(json.dumps({"seconds": seconds[args.warmup:],
                      "warmup": seconds[:args.warmup], "accuracy": accuracy,
                      "torch_threads": torch.get_num_threads(),
                      "torch": torch.__version__}))


# --------------------------------------------------------------- the parent


def run_setup(args, setup, variant):
    threads, blas = setup
    env = dict(os.environ)
    env["OMP_NUM_THREADS"] = str(threads)
    if blas == "unset":
        env.pop("OPENBLAS_NUM_THREADS", None)
    else:
        env["OPENBLAS_NUM_THREADS"] = blas
    cmd = [sys.executable, os.path.abspath(__file__), "--child",
           "--threads", str(threads), "--epochs", str(args.epochs),
           "--warmup", str(args.warmup), "--batch", str(args.batch),
           "--variant", variant, "--data", args.data]
    out = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"compare_pytorch.py: error: {variant}, {describe(setup)} "
                 f"failed:\n{out.stderr.strip()}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--epochs", type=int, default=1,
                    help="timed epochs per run (1)")
    ap.add_argument("--warmup", type=int, default=1,
                    help="untimed epochs first in each run (1)")
    ap.add_argument("--repeats", type=int, default=2,
                    help="runs of each setup, interleaved (2)")
    ap.add_argument("--setups", default="1:1,2:1,1:unset,2:unset",
                    help="comma-separated TORCH_THREADS:OPENBLAS setups")
    ap.add_argument("--variants", default="eager,compile",
                    help="comma-separated step variants: eager, compile")
    ap.add_argument("--batch", type=int, default=64, help="batch size (64)")
    ap.add_argument("--data", default=DEFAULT_DATA,
                    help="folder of the IDX files (train-*, t10k-*)")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--threads", type=int, default=1, help=argparse.SUPPRESS)
    ap.add_argument("--variant", default="eager", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.epochs < 1 or args.repeats < 1 or args.batch < 1:
        ap.error("--epochs, --repeats and --batch must be at least 1")
    if args.warmup < 0:
        ap.error("--warmup must be 0 or more")
    args.variants = args.variants.split(",")
    for v in args.variants + [args.variant]:
        if v not in ("eager", "compile"):
            ap.error(f"unknown variant '{v}': want eager or compile")
    if not args.child:
        try:
            args.setups = [parse_setup(s) for s in args.setups.split(",")]
        except argparse.ArgumentTypeError as e:
            ap.error(str(e))
    return args


def report(args, runs, seconds, accuracy, version):
    print(f"PyTorch {version}, mnist_mlp, batch {args.batch}, {args.warmup} "
          f"warm-up + {args.epochs} timed epoch(s) x {args.repeats} run(s) "
          f"per setup:")
    best = {}
    for variant, s in runs:
        v = seconds[variant, s]
        med = statistics.median(v)
        print(f"  {variant}, {describe(s)}: median {med:.3f} s/epoch "
              f"(min {min(v):.3f}, max {max(v):.3f}), "
              f"test accuracy {accuracy[variant, s]:.4f}")
        if variant not in best or med < best[variant][1]:
            best[variant] = (s, med)
    for variant, (s, med) in best.items():
        print(f"best {variant}: {describe(s)}: median {med:.3f} s/epoch")


def main():
    args = parse_args()
    if args.child:
        child(args)
        return
    seconds, accuracy, skipped = {}, {}, {}
    version = "?"
    for r in range(args.repeats):
        for variant in args.variants:
            if variant in skipped:
                continue
            for s in args.setups:
                result = run_setup(args, s, variant)
                version = result["torch"]
                if "skipped" in result:
                    skipped[variant] = result["skipped"]
                    print(f"torch {version}: {variant}: skipped: "
                          f"{result['skipped']}", flush=True)
                    break
                seconds.setdefault((variant, s), []).extend(result["seconds"])
                accuracy[variant, s] = result["accuracy"]
                warm = "".join(f"{t:.3f}, " for t in result["warmup"])
                print(f"round {r + 1}: torch {version} {variant}, "
                      f"{describe(s)}: {'warm-up ' + warm if warm else ''}"
                      + ", ".join(f"{t:.3f}" for t in result["seconds"])
                      + f" s/epoch, test accuracy {result['accuracy']:.4f}",
                      flush=True)
    runs = [(v, s) for v in args.variants if v not in skipped
            for s in args.setups]
    report(args, runs, seconds, accuracy, version)
    for variant, why in skipped.items():
        print(f"skipped {variant}: {why}")


if __name__ == "__main__":
    main()
