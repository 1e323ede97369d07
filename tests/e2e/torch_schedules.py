"""PyTorch as an outside oracle for the lr schedules and clip_grad_norm:
the same initial weights, the same batches (consecutive rows), SGD with
momentum over several short epochs; the weights nnc wrote must match, and
the lr column of its metrics CSV must be the scheduler's lr of each
epoch's last step.

usage: torch_schedules.py IDX_PREFIX SAMPLES INIT CASE LR MOMENTUM L2 BATCH
                          EPOCHS AFTER.safetensors METRICS.csv [...]
CASE is one of: step:EVERY:GAMMA  cosine:T_MAX:MIN_LR  warmup:STEPS
warmup:STEPS+cosine:T_MAX:MIN_LR  warmup:STEPS+step:EVERY:GAMMA
clip:MAX_NORM (a constant lr, the gradients clipped after l2). The model is
784-32-10 (relu; softmax cross-entropy), layers fc1 and fc2. Each pair
AFTER METRICS is one nnc backend's result.
"""
import csv
import math
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from idx_read import idx  # noqa: E402
from safetensors_read import read  # noqa: E402


def epoch_lrs(make, lr, epochs):
    """The lr of each epoch of a per-epoch torch scheduler, from torch."""
    p = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([p], lr=lr)
    sched = make(opt)
    out = []
    for _ in range(epochs):
        out.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    return out


def decay(spec, opt, lr, epochs):
    """(scheduler stepped per epoch, or None), and its lr per epoch."""
    kind, a, b = spec.split(":")
    if kind == "step":
        make = lambda o: torch.optim.lr_scheduler.StepLR(o, step_size=int(a), gamma=float(b))
    else:
        make = lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=int(a), eta_min=float(b))
    return make, epoch_lrs(make, lr, epochs)


def scheduler(case, opt, lr, epochs, per_epoch):
    """(scheduler, steps it per batch?) for CASE; None for a constant lr."""
    if case.startswith("clip:"):
        return None, False
    parts = case.split("+")
    warm = int(parts[0].split(":")[1]) if parts[0].startswith("warmup:") else 0
    rest = [p for p in parts if not p.startswith("warmup:")]
    if not warm:
        make, _ = decay(rest[0], opt, lr, epochs)
        return make(opt), False
    # (one epoch more: LambdaLR evaluates its lambda after the last step too)
    per_epoch_lr = decay(rest[0], opt, lr, epochs + 1)[1] if rest else [lr] * (epochs + 1)
    # The product of both factors, stepped per batch (LambdaLR).
    f = lambda s: min(1.0, (s + 1) / warm) * per_epoch_lr[s // per_epoch] / lr
    return torch.optim.lr_scheduler.LambdaLR(opt, f), True


def main():
    prefix, samples, init, case = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    lr, momentum, l2 = map(float, sys.argv[5:8])
    batch, epochs = int(sys.argv[8]), int(sys.argv[9])
    results = list(zip(sys.argv[10::2], sys.argv[11::2]))
    torch.manual_seed(0)
    x = idx(prefix + "-images-idx3-ubyte.gz", samples).float() / 255
    y = idx(prefix + "-labels-idx1-ubyte.gz", samples).reshape(samples).long()
    per_epoch = (samples + batch - 1) // batch

    names = ["fc1", "fc2"]
    layers = [torch.nn.Linear(784, 32), torch.nn.Linear(32, 10)]
    tensors, _ = read(init)
    for name, layer in zip(names, layers):
        for suffix in ("weight", "bias"):
            shape, vals = tensors[name + "." + suffix]
            getattr(layer, suffix).data = torch.tensor(vals).reshape(shape)
    params = [p for l in layers for p in l.parameters()]
    opt = torch.optim.SGD(params, lr=lr, momentum=momentum)
    sched, per_batch = scheduler(case, opt, lr, epochs, per_epoch)
    max_norm = float(case.split(":")[1]) if case.startswith("clip:") else 0
    lrs, clipped = [], 0
    for e in range(epochs):
        for b in range(per_epoch):
            xb, yb = x[b * batch:(b + 1) * batch], y[b * batch:(b + 1) * batch]
            h = torch.relu(layers[0](xb))
            loss = torch.nn.functional.cross_entropy(layers[1](h), yb)
            loss = loss + l2 * sum((l.weight ** 2).sum() for l in layers)
            opt.zero_grad()
            loss.backward()
            if max_norm:
                norm = torch.nn.utils.clip_grad_norm_(params, max_norm)
                clipped += int(norm.item() > max_norm)
            step_lr = opt.param_groups[0]["lr"]
            opt.step()
            if sched is not None and per_batch:
                sched.step()
        lrs.append(step_lr)  # the lr of the epoch's last step
        if sched is not None and not per_batch:
            sched.step()
    if max_norm and clipped == 0:
        print("the max norm %g never clips: the test would prove nothing" % max_norm)
        sys.exit(1)
    if max_norm:
        print("clip_grad_norm clipped %d of %d steps" % (clipped, epochs * per_epoch))
    print("torch lr per epoch: " + " ".join("%.6g" % v for v in lrs))

    worst = 0.0
    for after, metrics in results:
        got, _ = read(after)
        mine_worst = 0.0
        for name, layer in zip(names, layers):
            for suffix, p in (("weight", layer.weight), ("bias", layer.bias)):
                shape, vals = got[name + "." + suffix]
                mine = torch.tensor(vals).reshape(shape)
                assert list(mine.shape) == list(p.shape), (name, mine.shape, p.shape)
                err = ((mine - p.data).abs() / (p.data.abs() + 1e-3)).max().item()
                mine_worst = max(mine_worst, err)
        worst = max(worst, mine_worst)
        with open(metrics) as f:
            rows = list(csv.DictReader(f))
        col = [float(r["lr"]) for r in rows]
        if len(col) != epochs or any(abs(a - b) > 1e-12 * lr for a, b in zip(col, lrs)):
            print("%s: lr column %s, torch %s" % (metrics, col, lrs))
            sys.exit(1)
        print("%s: weights within %.2e of torch; lr column matches" % (after, mine_worst))
    print("worst %.2e (tolerance 1e-4)" % worst)
    sys.exit(0 if worst <= 1e-4 else 1)


main()
