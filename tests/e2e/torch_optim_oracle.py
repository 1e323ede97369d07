"""PyTorch as the oracle of nnc's optimizers: the same initial weights, the
same batches and the same steps of torch.optim.Adam, AdamW or SGD (with
nesterov and weight_decay) must give the same weights as nnc.

usage: torch_optim_oracle.py [--double] INIT.safetensors NNC_AFTER.safetensors
                             IDX_PREFIX STEPS BATCH L2 OPTIMIZER [K=V ...]
OPTIMIZER is sgd, adam or adamw; K=V are torch.optim's keyword arguments
(lr=0.001 betas=0.9,0.999 eps=1e-8 weight_decay=0.01 momentum=0.9
nesterov=1). The model is examples/mnist_mlp.nn (784-128-64-10, ReLU,
softmax cross-entropy); batches are consecutive rows from the start
(--no-shuffle); L2 is lambda x sum of squared weights (not biases) added to
the loss, as nnc's `l2`. With --double PyTorch computes in float64: the
oracle of nnc's interpreter (which computes in double); without, in
float32 as nnc's CPU backend. Adam divides by sqrt(v), so float32 rounding
moves a weight that crosses zero by more than 1e-4 of the metric below
after a few steps: PyTorch's float32 Adam itself differs from its float64
Adam by up to 3e-4 after 8 steps at lr 0.002 on this model.
"""
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from idx_read import idx  # noqa: E402
from safetensors_read import read  # noqa: E402


def options(pairs):
    out = {}
    for pair in pairs:
        key, value = pair.split("=", 1)
        if key == "betas":
            out[key] = tuple(float(v) for v in value.split(","))
        elif key == "nesterov":
            out[key] = value == "1"
        else:
            out[key] = float(value)
    return out


def train(args, dtype):
    """The weights after args' steps of torch.optim in `dtype`, by name."""
    init, prefix = args[0], args[2]
    steps, batch, l2 = int(args[3]), int(args[4]), float(args[5])
    kind, kwargs = args[6], options(args[7:])
    n = steps * batch
    x = (idx(prefix + "-images-idx3-ubyte.gz", n).float() / 255).to(dtype)
    y = idx(prefix + "-labels-idx1-ubyte.gz", n).reshape(n).long()

    names = ["fc1", "fc2", "fc3"]
    layers = [torch.nn.Linear(i, o).to(dtype)
              for i, o in [(784, 128), (128, 64), (64, 10)]]
    tensors, _ = read(init)
    for name, layer in zip(names, layers):
        for suffix in ("weight", "bias"):
            shape, vals = tensors[name + "." + suffix]
            getattr(layer, suffix).data = torch.tensor(
                vals, dtype=dtype).reshape(shape)

    def forward(inp):
        h = torch.relu(layers[0](inp))
        h = torch.relu(layers[1](h))
        return layers[2](h)

    params = [p for l in layers for p in l.parameters()]
    opt = {"sgd": torch.optim.SGD, "adam": torch.optim.Adam,
           "adamw": torch.optim.AdamW}[kind](params, **kwargs)
    for s in range(steps):
        xb, yb = x[s * batch:(s + 1) * batch], y[s * batch:(s + 1) * batch]
        loss = torch.nn.functional.cross_entropy(forward(xb), yb)
        loss = loss + l2 * sum((l.weight ** 2).sum() for l in layers)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return {name + "." + suffix: p.data.double()
            for name, layer in zip(names, layers)
            for suffix, p in (("weight", layer.weight), ("bias", layer.bias))}


def worst(a, ref):
    """The largest |a - ref| / (|ref| + 1e-3) over every tensor."""
    return max(((a[k] - ref[k]).abs() / (ref[k].abs() + 1e-3)).max().item()
               for k in ref)


def main():
    args = sys.argv[1:]
    dtype = torch.float32
    if args[0] == "--double":
        dtype = torch.float64
        args = args[1:]
    got, _ = read(args[1])
    ref = train(args, dtype)
    mine = {}
    for k, p in ref.items():
        shape, vals = got[k]
        mine[k] = torch.tensor(vals, dtype=torch.float64).reshape(shape)
        assert list(mine[k].shape) == list(p.shape), (k, mine[k].shape, p.shape)
    err = worst(mine, ref)
    what = "%s %s" % (args[6], " ".join(args[7:]))
    print("%s (%s): worst relative difference %.2e (tolerance 1e-4)"
          % (what, dtype, err))
    if err <= 1e-4 or dtype == torch.float64:
        sys.exit(0 if err <= 1e-4 else 1)
    # Two float32 runs of Adam can differ by more than 1e-4 where a weight
    # crosses zero (the module comment), and by how much depends on the
    # host's BLAS kernels. Then the float64 run is the exact answer: nnc's
    # float32 must be no farther from it than PyTorch's own float32 is.
    exact = train(args, torch.float64)
    mine64, torch32 = worst(mine, exact), worst(ref, exact)
    print("  against float64 PyTorch: nnc %.2e, PyTorch float32 %.2e"
          % (mine64, torch32))
    sys.exit(0 if mine64 <= max(1e-4, torch32) else 1)


if __name__ == "__main__":
    main()
