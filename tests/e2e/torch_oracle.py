"""PyTorch as an outside oracle: the same initial weights, the same batches
and the same SGD steps must give the same weights as nnc.

usage: torch_oracle.py INIT.safetensors NNC_AFTER.safetensors IDX_PREFIX
                       STEPS BATCH LR MOMENTUM L2
The model is examples/mnist_mlp.nn (784-128-64-10, ReLU, softmax
cross-entropy); batches are consecutive rows from the start (--no-shuffle);
L2 is lambda x sum of squared weights (not biases) added to the loss.
"""
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from idx_read import idx  # noqa: E402
from safetensors_read import read  # noqa: E402


def main():
    init, after, prefix = sys.argv[1:4]
    steps, batch = int(sys.argv[4]), int(sys.argv[5])
    lr, momentum, l2 = map(float, sys.argv[6:9])
    torch.manual_seed(0)
    n = steps * batch
    x = idx(prefix + "-images-idx3-ubyte.gz", n).float() / 255
    y = idx(prefix + "-labels-idx1-ubyte.gz", n).reshape(n).long()

    names = ["fc1", "fc2", "fc3"]
    layers = [torch.nn.Linear(i, o) for i, o in [(784, 128), (128, 64), (64, 10)]]
    tensors, _ = read(init)
    for name, layer in zip(names, layers):
        for suffix in ("weight", "bias"):
            shape, vals = tensors[name + "." + suffix]
            getattr(layer, suffix).data = torch.tensor(vals).reshape(shape)

    def forward(inp):
        h = torch.relu(layers[0](inp))
        h = torch.relu(layers[1](h))
        return layers[2](h)

    opt = torch.optim.SGD([p for l in layers for p in l.parameters()], lr=lr, momentum=momentum)
    for s in range(steps):
        xb, yb = x[s * batch:(s + 1) * batch], y[s * batch:(s + 1) * batch]
        loss = torch.nn.functional.cross_entropy(forward(xb), yb)
        loss = loss + l2 * sum((l.weight ** 2).sum() for l in layers)
        opt.zero_grad()
        loss.backward()
        opt.step()

    got, _ = read(after)
    worst = 0.0
    for name, layer in zip(names, layers):
        for suffix, p in (("weight", layer.weight), ("bias", layer.bias)):
            shape, vals = got[name + "." + suffix]
            mine = torch.tensor(vals).reshape(shape)
            assert list(mine.shape) == list(p.shape), (name, mine.shape, p.shape)
            err = ((mine - p.data).abs() / (p.data.abs() + 1e-3)).max().item()
            worst = max(worst, err)
            print("%-11s max relative difference %.2e" % (name + "." + suffix, err))
    print("worst %.2e (tolerance 1e-4)" % worst)
    sys.exit(0 if worst <= 1e-4 else 1)


main()
