"""PyTorch as the outside oracle of the activations of issue 14 (gelu,
silu, softplus, leaky_relu): the same initial weights, the same batches and
the same SGD steps must give the same weights as nnc.

usage: torch_activations.py ACT SLOPE INIT.safetensors NNC_AFTER.safetensors
                            IDX_PREFIX STEPS BATCH LR MOMENTUM
The model is the one activations_oracle.sh writes for ACT:
  fc1 = dense(x, 32, ACT)          # ACT in the dense layer (fused epilogue)
  fc2 = dense(fc1, 16)
  h   = ACT(fc2 * 0.5)             # ACT as a function (fused.elementwise)
  out = dense(h, 10)
  loss cross_entropy(softmax(out), y)
leaky_relu uses the default slope 0.01 in fc1 and SLOPE in h. PyTorch runs
in float64, so the difference is nnc's own (float32 kernels on the CPU).
"""
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from idx_read import idx  # noqa: E402
from safetensors_read import read  # noqa: E402


def activations(name, slope):
    """The module nnc's dense layer applies and the one of the call."""
    if name == "gelu":
        return torch.nn.GELU(), torch.nn.GELU()  # the exact (erf) form
    if name == "silu":
        return torch.nn.SiLU(), torch.nn.SiLU()
    if name == "softplus":
        return torch.nn.Softplus(), torch.nn.Softplus()
    if name == "leaky_relu":
        return torch.nn.LeakyReLU(0.01), torch.nn.LeakyReLU(slope)
    raise SystemExit("unknown activation " + name)


def main():
    act, slope = sys.argv[1], float(sys.argv[2])
    init, after, prefix = sys.argv[3:6]
    steps, batch = int(sys.argv[6]), int(sys.argv[7])
    lr, momentum = map(float, sys.argv[8:10])
    torch.set_default_dtype(torch.float64)
    n = steps * batch
    x = idx(prefix + "-images-idx3-ubyte.gz", n).double() / 255
    y = idx(prefix + "-labels-idx1-ubyte.gz", n).reshape(n).long()

    names = ["fc1", "fc2", "out"]
    layers = [torch.nn.Linear(i, o) for i, o in [(784, 32), (32, 16), (16, 10)]]
    tensors, _ = read(init)
    for name, layer in zip(names, layers):
        for suffix in ("weight", "bias"):
            shape, vals = tensors[name + "." + suffix]
            getattr(layer, suffix).data = torch.tensor(vals).reshape(shape)
    in_dense, as_call = activations(act, slope)

    def forward(inp):
        h = in_dense(layers[0](inp))
        h = as_call(layers[1](h) * 0.5)
        return layers[2](h)

    opt = torch.optim.SGD([p for l in layers for p in l.parameters()], lr=lr, momentum=momentum)
    for s in range(steps):
        xb, yb = x[s * batch:(s + 1) * batch], y[s * batch:(s + 1) * batch]
        loss = F.cross_entropy(forward(xb), yb)
        opt.zero_grad()
        loss.backward()
        opt.step()

    got, _ = read(after)
    worst = 0.0
    moved = 0.0
    for name, layer in zip(names, layers):
        for suffix, p in (("weight", layer.weight), ("bias", layer.bias)):
            shape, vals = got[name + "." + suffix]
            mine = torch.tensor(vals).reshape(shape)
            assert list(mine.shape) == list(p.shape), (name, mine.shape, p.shape)
            err = ((mine - p.data).abs() / (p.data.abs() + 1e-3)).max().item()
            start = torch.tensor(tensors[name + "." + suffix][1]).reshape(shape)
            moved = max(moved, (p.data - start).abs().max().item())
            worst = max(worst, err)
            print("%-11s max relative difference %.2e" % (name + "." + suffix, err))
    print("%s: worst %.2e (tolerance 1e-4); the weights moved up to %.2e"
          % (act, worst, moved))
    # The steps must have changed the weights, or the check checks nothing.
    sys.exit(0 if worst <= 1e-4 and moved > 1e-3 else 1)


main()
