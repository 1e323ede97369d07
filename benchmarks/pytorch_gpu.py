#!/usr/bin/python3
"""pytorch_gpu.py - PyTorch eager on the GPU: the peers of issue 5's targets.

Two measurements, each printed as one JSON line:

  --what mlp    one training step (forward, cross-entropy, backward, SGD
                momentum update) of benchmarks/mlp4096.nn as PyTorch writes
                it: 4 nn.Linear of width --width, relu, batch --batch;
                `--precision tf32` sets torch.backends.cuda.matmul.allow_tf32
                (cuBLAS on tensor cores). Median of --repeats steps after
                --warmup, timed with CUDA events (perf_counter on the CPU).
  --what epoch  one epoch of examples/mnist_mlp.nn (784-128-64-10, batch 64,
                SGD lr 0.05 momentum 0.9, L2 1e-4) on Fashion-MNIST held on
                the device; median seconds per epoch of --repeats epochs.

  /usr/bin/python3 benchmarks/pytorch_gpu.py --what mlp [--device cuda]
      [--width 4096] [--batch 4096] [--precision fp32|tf32] [--repeats 20]
  /usr/bin/python3 benchmarks/pytorch_gpu.py --what epoch [--repeats 3]

`--device cpu` runs the same code on the CPU (to check the script where
there is no GPU; not a peer of anything).
"""

import argparse
import json
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


class Timer:
    """Seconds of the work queued between start() and stop()."""

    def __init__(self, torch, device):
        self.torch, self.cuda = torch, device.type == "cuda"

    def start(self):
        if self.cuda:
            self.begin = self.torch.cuda.Event(enable_timing=True)
            self.end = self.torch.cuda.Event(enable_timing=True)
            self.begin.record()
        else:
            self.t0 = time.perf_counter()

    def stop(self):
        if self.cuda:
            self.end.record()
            self.end.synchronize()
            return self.begin.elapsed_time(self.end) / 1e3
        return time.perf_counter() - self.t0


def mlp(args, torch, device):
    torch.backends.cuda.matmul.allow_tf32 = args.precision == "tf32"
    torch.backends.cudnn.allow_tf32 = args.precision == "tf32"
    torch.manual_seed(1)
    w, b = args.width, args.batch
    layers = []
    for i in range(4):
        layers.append(torch.nn.Linear(w, w))
        if i < 3:
            layers.append(torch.nn.ReLU())
    model = torch.nn.Sequential(*layers).to(device)
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    loss_fn = torch.nn.CrossEntropyLoss()
    x = torch.rand(b, w, device=device)
    y = torch.randint(0, w, (b,), device=device)
    timer, seconds = Timer(torch, device), []
    for r in range(args.warmup + args.repeats):
        timer.start()
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        s = timer.stop()
        if r >= args.warmup:
            seconds.append(s)
    # 2 FLOP per multiply-add: forward, weight gradients, input gradients
    # but the first layer's (nnc summary counts the same, plus elementwise).
    flops = 2.0 * b * w * w * (4 + 4 + 3)
    med = statistics.median(seconds)
    return {"what": "mlp", "width": w, "batch": b, "precision": args.precision,
            "median_s": med, "min_s": min(seconds), "max_s": max(seconds),
            "gemm_tflops": flops / med / 1e12}


def epoch(args, torch, device):
    from compare_pytorch import load, mnist_mlp
    torch.manual_seed(42)
    x, y = load(os.path.join(args.data, "train"))
    x, y = x.to(device), y.to(device)
    model, opt, loss_fn = mnist_mlp(torch, device)
    timer, seconds = Timer(torch, device), []
    for r in range(args.warmup + args.repeats):
        timer.start()
        order = torch.randperm(len(x), device=device)
        for start in range(0, len(x), 64):
            idx = order[start:start + 64]
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(model(x[idx]), y[idx])
            loss.backward()
            opt.step()
        s = timer.stop()
        if r >= args.warmup:
            seconds.append(s)
    return {"what": "epoch", "batch": 64, "median_s": statistics.median(seconds),
            "min_s": min(seconds), "max_s": max(seconds),
            "final_loss": loss.item()}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--what", choices=["mlp", "epoch"], required=True)
    ap.add_argument("--device", default="cuda", help="cuda (default) or cpu")
    ap.add_argument("--width", type=int, default=4096)
    ap.add_argument("--batch", type=int, default=4096)
    ap.add_argument("--precision", choices=["fp32", "tf32"], default="fp32")
    ap.add_argument("--repeats", type=int, default=None,
                    help="timed runs (mlp: 20 steps, epoch: 3 epochs)")
    ap.add_argument("--warmup", type=int, default=None,
                    help="untimed runs first (mlp: 5, epoch: 1)")
    ap.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    args = ap.parse_args()
    if args.repeats is None:
        args.repeats = 20 if args.what == "mlp" else 3
    if args.warmup is None:
        args.warmup = 5 if args.what == "mlp" else 1
    if args.repeats < 1 or args.warmup < 0 or args.width < 1 or args.batch < 1:
        ap.error("--repeats, --width and --batch must be at least 1, "
                 "--warmup at least 0")
    import torch
    device = torch.device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        sys.exit("pytorch_gpu.py: error: no CUDA device for PyTorch")
    result = (mlp if args.what == "mlp" else epoch)(args, torch, device)
    result.update({"device": torch.cuda.get_device_name(0)
                   if device.type == "cuda" else "cpu",
                   "torch": torch.__version__})
    print(json.dumps(result))


if __name__ == "__main__":
    main()
