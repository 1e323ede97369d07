"""PyTorch as the oracle of `nnc import`: writes ONNX files of the lecture's
MLP (784-128-relu-10, softmax at the output), the same MLP ending in logits,
a small CNN (conv, relu, batch norm in eval mode with running statistics
of its own, max pooling, flatten, linear), each with torch.onnx.export
(opset 17, or the newest this torch writes, a symbolic batch axis), and an
MLP with nn.LayerNorm on its input and on a hidden layer (opset 17 only:
older opsets have no LayerNormalization and torch writes its arithmetic;
left out with a note where this torch cannot), and the model's
probabilities on the first COUNT Fashion-MNIST test images as CSV
(row,class,probability of that class,probabilities...).

usage: torch_onnx_import.py OUTDIR IMAGES.gz COUNT
Exit 77 (skip) when torch cannot export ONNX here.
"""
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from idx_read import idx  # noqa: E402


class Mlp(torch.nn.Module):
    def __init__(self, softmax):
        super().__init__()
        self.fc1 = torch.nn.Linear(784, 128)
        self.fc2 = torch.nn.Linear(128, 10)
        self.softmax = softmax

    def forward(self, x):
        z = self.fc2(torch.relu(self.fc1(x)))
        return torch.softmax(z, dim=1) if self.softmax else z


class MlpLn(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.ln0 = torch.nn.LayerNorm(784)
        self.fc1 = torch.nn.Linear(784, 64)
        self.ln1 = torch.nn.LayerNorm(64, eps=1e-6)
        self.fc2 = torch.nn.Linear(64, 10)

    def forward(self, x):
        h = torch.relu(self.ln1(self.fc1(self.ln0(x))))
        return torch.softmax(self.fc2(h), dim=1)


class Cnn(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.c1 = torch.nn.Conv2d(1, 8, 3, padding=1)
        self.b1 = torch.nn.BatchNorm2d(8)
        self.c2 = torch.nn.Conv2d(8, 16, 3, padding=1)
        self.fc = torch.nn.Linear(16 * 7 * 7, 32)
        self.out = torch.nn.Linear(32, 10)

    def forward(self, x):
        h = self.b1(torch.relu(self.c1(x)))
        h = torch.nn.functional.max_pool2d(h, 2)
        h = torch.nn.functional.max_pool2d(torch.relu(self.c2(h)), 2)
        h = torch.relu(self.fc(torch.flatten(h, 1)))
        return torch.softmax(self.out(h), dim=1)


def export(model, example, path, opsets=(17, 16, 15, 14, 13)):
    model.eval()
    last = None
    for opset in opsets:
        try:
            torch.onnx.export(model, example, path, opset_version=opset,
                              input_names=["x"], output_names=["prob"],
                              dynamic_axes={"x": {0: "N"}, "prob": {0: "N"}})
            return opset
        except Exception as e:  # this torch does not write the opset
            last = e
    if len(opsets) == 1:
        return None
    print("SKIP: torch.onnx.export fails here: %s" % last)
    sys.exit(77)


def main():
    out, images, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
    torch.manual_seed(7)
    x = idx(images, count).to(torch.float32) / 255.0
    cnn = Cnn()
    with torch.no_grad():  # running statistics that are not the identity
        cnn.b1.running_mean.uniform_(-0.2, 0.2)
        cnn.b1.running_var.uniform_(0.5, 2.0)
        cnn.b1.weight.uniform_(0.5, 1.5)
        cnn.b1.bias.uniform_(-0.1, 0.1)
    models = {"mlp": (Mlp(True), x), "mlp_logits": (Mlp(False), x),
              "cnn": (cnn, x.reshape(-1, 1, 28, 28))}
    ln = MlpLn()
    with torch.no_grad():  # a scale and a shift that are not 1 and 0
        for norm in (ln.ln0, ln.ln1):
            norm.weight.uniform_(0.5, 1.5)
            norm.bias.uniform_(-0.2, 0.2)
    models["mlp_ln"] = (ln, x)
    for name, (model, data) in models.items():
        path = os.path.join(out, name + ".onnx")
        if name == "mlp_ln":
            opset = export(model, data[:2], path, (17,))
        else:
            opset = export(model, data[:2], path)
        if opset is None:
            print("note: %s: this torch does not export LayerNormalization "
                  "(opset 17): left out" % name)
            if os.path.exists(path):
                os.remove(path)
            continue
        with torch.no_grad():
            p = model(data)
            if name == "mlp_logits":
                p = torch.softmax(p, dim=1)
        with open(os.path.join(out, name + ".torch.csv"), "w") as f:
            for r in range(p.shape[0]):
                best = int(torch.argmax(p[r]))
                f.write("%d,%d,%.9g,%s\n" % (r, best, float(p[r, best]),
                        ",".join("%.9g" % float(v) for v in p[r])))
        print("%s: exported with opset %d" % (name, opset))


if __name__ == "__main__":
    main()
