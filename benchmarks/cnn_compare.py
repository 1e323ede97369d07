#!/usr/bin/python3
"""cnn_compare.py - examples/fashion_cnn.nn trained by PyTorch, eager and torch.compile: seconds per epoch.

The issue's network (conv 1->32 3x3 pad 1 relu, batch norm, maxpool 2,
conv 32->64 3x3 pad 1 relu, maxpool 2, flatten, dense 3136->128 relu,
dense 128->10, softmax cross-entropy) written as a PyTorch user would:
nn.Sequential of nn.Conv2d, nn.ReLU, nn.BatchNorm2d, nn.MaxPool2d,
nn.Flatten, nn.Linear, CrossEntropyLoss. Its recipe (optimizer, lr,
momentum, l2, batch) is read from the .nn file's train block (--model), so
both sides train the same thing: sgd -> torch.optim.SGD, adam ->
torch.optim.Adam; the lecture's l2 (lambda x the sum of squared weights)
as weight_decay 2 x lambda on the conv and dense weights only.

Two variants of the training step (zero_grad, forward, loss, backward,
optimizer step): `eager`, and `compile`, the same step function under
torch.compile (Inductor, dynamic=False). torch.compile came in PyTorch 2.0:
with an older torch (Debian's 1.13) the compile variant is reported as
skipped. Each (variant, repeat) runs in its own process with T torch
threads (OMP_NUM_THREADS=T), interleaved over the repeats. Each run first
takes --warmup-steps full batches and one batch of the epoch's last,
partial size (untimed: torch.compile compiles for both sizes there), then
times --epochs shuffled epochs over all 60,000 rows (data loading not
included), and the test accuracy after.

  python benchmarks/cnn_compare.py [--model examples/fashion_cnn.nn]
      [--variants eager,compile] [--threads 2] [--repeats 1] [--epochs 1]
      [--warmup-steps 20] [--steps N] [--batch B] [--data DIR]
      [--channels-last]

--steps N times the first N steps of each epoch and extrapolates to the
epoch (on a loaded machine a whole epoch may take many minutes); the round
lines say so. Test accuracy is then that of a partly trained model.

The last lines read "result: VARIANT median S s/epoch (min, max), test
accuracy A" or "skipped VARIANT: why".
"""

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from compare_pytorch import DEFAULT_DATA, read_idx  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def recipe(path):
    """The train block's optimizer, its keywords, batch and l2, from the
    .nn file: enough of the language for this one file."""
    text = re.sub(r"#[^\n]*", "", open(path).read())
    m = re.search(r"optimizer\s+(\w+)\s*\(([^)]*)\)", text)
    if not m:
        sys.exit(f"cnn_compare.py: error: {path}: no optimizer in its train block")
    kwargs = {}
    for pair in filter(None, (p.strip() for p in m.group(2).split(","))):
        key, value = (s.strip() for s in pair.split("="))
        kwargs[key] = value == "true" if value in ("true", "false") else float(value)
    batch = re.search(r"\bbatch\s+(\d+)", text)
    l2 = re.search(r"\bl2\s+([0-9.eE+-]+)", text)
    return {"optimizer": m.group(1), "kwargs": kwargs,
            "batch": int(batch.group(1)) if batch else 64,
            "l2": float(l2.group(1)) if l2 else 0.0}


def load(prefix):
    import torch

    def find(stem):
        for p in (stem + ".gz", stem):
            if os.path.exists(p):
                return p
        sys.exit(f"cnn_compare.py: error: {stem}[.gz]: no such file")

    images = read_idx(find(prefix + "-images-idx3-ubyte"))
    labels = read_idx(find(prefix + "-labels-idx1-ubyte"))
    x = torch.from_numpy(images.reshape(len(images), 1, 28, 28).astype("float32") / 255.0)
    return x, torch.from_numpy(labels.astype("int64"))


def fashion_cnn(torch, rec):
    nn = torch.nn
    model = nn.Sequential(
        nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.BatchNorm2d(32),
        nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(64 * 7 * 7, 128), nn.ReLU(), nn.Linear(128, 10))
    weights = [m.weight for m in model if isinstance(m, (nn.Conv2d, nn.Linear))]
    rest = [p for p in model.parameters() if all(p is not w for w in weights)]
    kw, kind = dict(rec["kwargs"]), rec["optimizer"]
    if kind in ("adam", "adamw"):  # nnc's beta1, beta2: torch's betas
        kw["betas"] = (kw.pop("beta1", 0.9), kw.pop("beta2", 0.999))
    decay = kw.pop("weight_decay", 0.0)
    groups = [{"params": weights, "weight_decay": decay + 2 * rec["l2"]},
              {"params": rest, "weight_decay": decay}]
    opt = {"sgd": torch.optim.SGD, "adam": torch.optim.Adam,
           "adamw": torch.optim.AdamW}[kind](groups, **kw)
    return model, opt, nn.CrossEntropyLoss()


def child(args):
    import torch
    if args.variant == "compile" and not hasattr(torch, "compile"):
        print(json.dumps({"skipped": f"torch {torch.__version__} has no "
                          "torch.compile (it came in PyTorch 2.0)",
                          "torch": torch.__version__}))
        return
    torch.set_num_threads(args.threads)
    torch.manual_seed(42)
    rec = recipe(args.model)
    batch = args.batch or rec["batch"]
    x, y = load(os.path.join(args.data, "train"))
    tx, ty = load(os.path.join(args.data, "t10k"))
    model, opt, loss_fn = fashion_cnn(torch, rec)
    fmt = torch.channels_last if args.channels_last else torch.contiguous_format
    model = model.to(memory_format=fmt)
    x, tx = x.contiguous(memory_format=fmt), tx.contiguous(memory_format=fmt)

    def step(xb, yb):
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(model(xb), yb)
        loss.backward()
        opt.step()
        return loss

    if args.variant == "compile":
        step = torch.compile(step, dynamic=False)
    model.train()
    t0 = time.perf_counter()
    tail = len(x) % batch or batch
    for s in range(args.warmup_steps):
        step(x[s * batch:(s + 1) * batch], y[s * batch:(s + 1) * batch])
    step(x[:tail], y[:tail]).item()
    warmup = time.perf_counter() - t0
    seconds = []
    per_epoch = (len(x) + batch - 1) // batch
    for _ in range(args.epochs):
        t0 = time.perf_counter()
        order = torch.randperm(len(x))
        starts = range(0, len(x), batch)[:args.steps or per_epoch]
        for start in starts:
            idx = order[start:start + batch]
            loss = step(x[idx], y[idx])
        loss.item()
        # --steps: the epoch's time extrapolated from its first full steps.
        seconds.append((time.perf_counter() - t0) * per_epoch / len(starts))
    model.eval()
    with torch.no_grad():
        correct = sum((model(tx[i:i + 1000]).argmax(1) == ty[i:i + 1000]).sum().item()
                      for i in range(0, len(tx), 1000))
    print(json.dumps({"seconds": seconds, "warmup": warmup,
                      "accuracy": correct / len(tx), "batch": batch,
                      "steps": args.steps, "steps_per_epoch": per_epoch,
                      "torch_threads": torch.get_num_threads(),
                      "recipe": rec, "torch": torch.__version__}))


def run(args, variant):
    env = dict(os.environ)
    env["OMP_NUM_THREADS"] = str(args.threads)
    cmd = [sys.executable, os.path.abspath(__file__), "--child",
           "--threads", str(args.threads), "--epochs", str(args.epochs),
           "--warmup-steps", str(args.warmup_steps), "--variant", variant,
           "--data", args.data, "--model", args.model, "--steps", str(args.steps)]
    if args.batch:
        cmd += ["--batch", str(args.batch)]
    if args.channels_last:
        cmd.append("--channels-last")
    out = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"cnn_compare.py: error: {variant} failed:\n{out.stderr.strip()}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", default=os.path.join(ROOT, "examples", "fashion_cnn.nn"),
                    help="the .nn file whose train block gives the recipe")
    ap.add_argument("--variants", default="eager,compile",
                    help="comma-separated step variants: eager, compile")
    ap.add_argument("--threads", type=int, default=2, help="torch threads (2)")
    ap.add_argument("--repeats", type=int, default=1, help="runs of each variant (1)")
    ap.add_argument("--epochs", type=int, default=1, help="timed epochs per run (1)")
    ap.add_argument("--warmup-steps", type=int, default=20,
                    help="untimed full batches first (20), then one partial one")
    ap.add_argument("--steps", type=int, default=0,
                    help="time only the first N steps of each epoch and "
                    "extrapolate (default: the whole epoch)")
    ap.add_argument("--batch", type=int, default=0,
                    help="batch size (default: the model's)")
    ap.add_argument("--data", default=DEFAULT_DATA,
                    help="folder of the IDX files (train-*, t10k-*)")
    ap.add_argument("--channels-last", action="store_true",
                    help="NHWC tensors (torch.channels_last)")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--variant", default="eager", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.epochs < 1 or args.repeats < 1 or args.threads < 1 or \
            args.batch < 0 or args.steps < 0:
        ap.error("--epochs, --repeats and --threads must be at least 1")
    if args.warmup_steps < 0:
        ap.error("--warmup-steps must be 0 or more")
    args.variants = args.variants.split(",")
    for v in args.variants + [args.variant]:
        if v not in ("eager", "compile"):
            ap.error(f"unknown variant '{v}': want eager or compile")
    if not os.path.exists(args.model):
        ap.error(f"{args.model}: no such file")
    return args


def main():
    args = parse_args()
    if args.child:
        child(args)
        return
    seconds, accuracy, skipped, version = {}, {}, {}, "?"
    for r in range(args.repeats):
        for variant in args.variants:
            if variant in skipped:
                continue
            result = run(args, variant)
            version = result["torch"]
            if "skipped" in result:
                skipped[variant] = result["skipped"]
                continue
            seconds.setdefault(variant, []).extend(result["seconds"])
            accuracy[variant] = result["accuracy"]
            print(f"round {r + 1}: torch {version} {variant}, batch "
                  f"{result['batch']}, {result['torch_threads']} threads: "
                  f"warm-up {result['warmup']:.1f} s, "
                  + (f"timed {result['steps']} of {result['steps_per_epoch']} "
                     "steps, " if result["steps"] else "")
                  + ", ".join(f"{t:.2f}" for t in result["seconds"])
                  + f" s/epoch, test accuracy {result['accuracy']:.4f}", flush=True)
    print(f"PyTorch {version}, fashion_cnn ({args.model}), {args.threads} "
          f"threads, {args.epochs} timed epoch(s) x {args.repeats} run(s):")
    for variant, v in seconds.items():
        print(f"result: {variant} median {statistics.median(v):.3f} s/epoch "
              f"(min {min(v):.3f}, max {max(v):.3f}), test accuracy "
              f"{accuracy[variant]:.4f}")
    for variant, why in skipped.items():
        print(f"skipped {variant}: {why}")


if __name__ == "__main__":
    main()
