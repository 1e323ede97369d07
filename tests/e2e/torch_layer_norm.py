"""PyTorch as the oracle of layer_norm: nn.LayerNorm in a small MLP, the
same initial weights (nnc's safetensors, taken by load_state_dict as they
are), the same batches and the same SGD steps must give nnc's weights.

usage: torch_layer_norm.py INIT.safetensors NNC_AFTER.safetensors IDX_PREFIX
                           STEPS BATCH LR MOMENTUM L2
The model is tests/e2e/layer_norm_mlp.nn: n0 = layer_norm(x) over the 784
pixels, fc1 = dense(n0, 50), n1 = layer_norm(fc1), relu, fc2 = dense(., 10),
softmax cross-entropy; batches are consecutive rows from the start
(--no-shuffle); L2 is lambda x sum of squared dense weights (layer_norm's
weights and every bias excluded, as nnc's l2 does).
"""
import sys
import os

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from idx_read import idx  # noqa: E402
from safetensors_read import read  # noqa: E402


class Mlp(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.n0 = torch.nn.LayerNorm(784)
        self.fc1 = torch.nn.Linear(784, 50)
        self.n1 = torch.nn.LayerNorm(50)
        self.fc2 = torch.nn.Linear(50, 10)

    def forward(self, x):
        return self.fc2(torch.relu(self.n1(self.fc1(self.n0(x)))))


def state(path):
    tensors, _ = read(path)
    return {k: torch.tensor(v, dtype=torch.float32).reshape(shape)
            for k, (shape, v) in tensors.items() if not k.startswith("optimizer.")}


def main():
    init, after, prefix = sys.argv[1:4]
    steps, batch = int(sys.argv[4]), int(sys.argv[5])
    lr, momentum, l2 = map(float, sys.argv[6:9])
    n = steps * batch
    x = idx(prefix + "-images-idx3-ubyte.gz", n).float() / 255
    y = idx(prefix + "-labels-idx1-ubyte.gz", n).reshape(n).long()

    model = Mlp().double()
    start = state(init)
    # Strict: nnc's names and shapes are nn.LayerNorm's and nn.Linear's.
    model.load_state_dict(start, strict=True)
    assert torch.equal(start["n1.weight"], torch.ones(50)), "n1.weight starts at ones"
    assert torch.equal(start["n1.bias"], torch.zeros(50)), "n1.bias starts at zeros"
    x = x.double()
    opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=momentum)
    for s in range(steps):
        xb, yb = x[s * batch:(s + 1) * batch], y[s * batch:(s + 1) * batch]
        loss = torch.nn.functional.cross_entropy(model(xb), yb)
        loss = loss + l2 * sum((l.weight ** 2).sum() for l in (model.fc1, model.fc2))
        opt.zero_grad()
        loss.backward()
        opt.step()

    got = state(after)
    worst = 0.0
    for name, p in model.state_dict().items():
        mine = got[name].double()
        assert list(mine.shape) == list(p.shape), (name, mine.shape, p.shape)
        err = ((mine - p).abs() / (p.abs() + 1e-3)).max().item()
        moved = (p - start[name].double()).abs().max().item()
        worst = max(worst, err)
        print("%-10s max relative difference %.2e (moved by up to %.2e)" % (name, err, moved))
        if name.startswith("n") and moved == 0:
            print("FAIL: %s did not train" % name)
            sys.exit(1)
    print("worst %.2e (tolerance 1e-4)" % worst)
    sys.exit(0 if worst <= 1e-4 else 1)


main()
