"""PyTorch as the oracle of batch norm's evaluation form (passes/EvalForm.cpp):
nnc's trained weights (running statistics included) loaded by load_state_dict
into the same model, run in eval mode (nn.BatchNorm2d on its running
statistics), must give the loss `nnc eval` printed and the probabilities
`nnc predict` printed. The training form (batch statistics) must not: the
check tells the two apart.

usage: torch_batch_norm_eval.py WEIGHTS.safetensors DATA.csv EVAL_OUT PREDICT_OUT
The model is tests/e2e/batch_norm_eval.nn: c = conv2d(x, 3, kernel = 2, relu),
b = batch_norm(c), maxpool2d(b, 2, stride = 1), z = dense(flatten(.), 1),
bce(sigmoid(z), y), on 1 x 4 x 4 images.
"""
import csv
import os
import re
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from safetensors_read import read  # noqa: E402


class Cnn(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.c = torch.nn.Conv2d(1, 3, 2)
        self.b = torch.nn.BatchNorm2d(3)
        self.z = torch.nn.Linear(12, 1)

    def forward(self, x):
        h = self.b(torch.relu(self.c(x)))
        h = torch.nn.functional.max_pool2d(h, 2, stride=1)
        return self.z(torch.flatten(h, 1)).squeeze(1)


def main():
    weights, data, eval_out, predict_out = sys.argv[1:5]
    tensors, _ = read(weights)
    state = {k: torch.tensor(v, dtype=torch.float64).reshape(shape)
             for k, (shape, v) in tensors.items()
             if not k.startswith("optimizer.")}
    model = Cnn().double()
    model.load_state_dict(state)
    rows = list(csv.reader(open(data)))
    label = rows[0].index("bar")
    x = torch.tensor([[float(v) for i, v in enumerate(r) if i != label]
                      for r in rows[1:]], dtype=torch.float64).reshape(-1, 1, 4, 4)
    y = torch.tensor([float(r[label]) for r in rows[1:]], dtype=torch.float64)
    with torch.no_grad():
        model.eval()
        p_eval = torch.sigmoid(model(x))
        loss = torch.nn.functional.binary_cross_entropy(p_eval, y).item()
        model.train()  # batch statistics (this also moves the running ones)
        p_train = torch.sigmoid(model(x))

    ok = True
    m = re.search(r"loss (\S+)", open(eval_out).read())
    if not m or abs(float(m.group(1)) - loss) > 1e-4:
        print("eval loss: nnc %s, PyTorch eval mode %.6f" %
              (m.group(1) if m else "?", loss))
        ok = False
    printed = [float(line.split(",")[2])
               for line in open(predict_out).read().splitlines()[1:]]
    if len(printed) != len(p_eval):
        print("predict printed %d rows, want %d" % (len(printed), len(p_eval)))
        return 1
    for i, (a, b) in enumerate(zip(printed, p_eval.tolist())):
        if abs(a - b) > 2e-6:
            print("row %d: nnc predict %.6f, PyTorch eval mode %.6f" % (i, a, b))
            ok = False
    gap = max(abs(a - b) for a, b in zip(p_eval.tolist(), p_train.tolist()))
    if gap < 1e-3:
        print("the training form gives the same probabilities (gap %.2e): "
              "the check cannot tell the forms apart" % gap)
        ok = False
    print("eval loss %.6f, %d probabilities match PyTorch's eval mode "
          "(training form off by up to %.3f)" % (loss, len(printed), gap))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
