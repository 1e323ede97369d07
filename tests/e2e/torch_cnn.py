"""PyTorch as the oracle of nnc's convolutional networks: the issue's
fashion_cnn (few channels, so the test is fast) and variants of it, written
once here as a table of layers, from which this script prints the .nn file
nnc trains and builds the nn.Module PyTorch trains (nn.Conv2d,
nn.BatchNorm2d, nn.MaxPool2d, nn.AvgPool2d, torch.flatten, nn.Linear). The
same initial weights (nnc's safetensors, taken by load_state_dict as they
are), the same batches and the same optimizer steps must give nnc's weights
and batch norm's running statistics; nnc's predictions from its trained
weights must be the model's in eval mode (running statistics).

usage:
  torch_cnn.py variants
      the variant names, one a line
  torch_cnn.py nn VARIANT DATA_PREFIX
      the variant's .nn file on stdout (its data: the IDX prefix)
  torch_cnn.py train [--double] VARIANT INIT AFTER DATA_PREFIX STEPS BATCH
                     L2 OPTIMIZER [K=V ...]
      trains the variant from INIT for STEPS batches of BATCH consecutive
      samples (nnc's --no-shuffle) with torch.optim.OPTIMIZER (sgd or adam;
      K=V its keyword arguments: lr=0.05 momentum=0.9) and the lecture's L2
      (lambda x the sum of squared conv and dense weights, as nnc's `l2`),
      then compares every tensor of AFTER (nnc's weights) with PyTorch's
  torch_cnn.py predict [--double] VARIANT WEIGHTS DATA_PREFIX PREDICT_CSV
                       EVAL_TEXT
      the model in eval mode with nnc's trained weights against `nnc
      predict`'s CSV (class and probability of each sample) and `nnc
      eval`'s line (accuracy and loss over the samples PREDICT_CSV names)

With --double PyTorch computes in float64 (the oracle of nnc's interpreter,
which computes in double), else in float32 as nnc's CPU backend. A weight
agrees when |nnc - torch| / (|torch| + 1e-3) <= 1e-4, as in the other
oracles; num_batches_tracked must be equal. Exit 0 when all agree, 1 when
not (each tensor's worst difference is printed either way).
"""
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from idx_read import idx  # noqa: E402
from safetensors_read import read  # noqa: E402

TOLERANCE = 1e-4


def conv(name, out, kernel=3, stride=1, padding=1, groups=1, act="relu"):
    return {"op": "conv", "name": name, "out": out, "kernel": kernel,
            "stride": stride, "padding": padding, "groups": groups, "act": act}


def bn(name):
    return {"op": "bn", "name": name}


def pool(name, kind, kernel=2):
    return {"op": kind, "name": name, "kernel": kernel}


def dense(name, out, act=None, pre=None):
    """pre: an activation applied to the layer's input, dense(relu(x), n)."""
    return {"op": "dense", "name": name, "out": out, "act": act, "pre": pre}


def flatten(name):
    return {"op": "flatten", "name": name}


def global_avgpool(name):
    return {"op": "global_avgpool", "name": name}


def fashion_cnn(c1=None, p1="maxpool2d", c2=None, with_bn=True, head="flatten",
                late_bn=False):
    """The issue's fashion_cnn with 4 and 8 channels and a 32-wide hidden
    layer; the keyword arguments change one thing each. late_bn adds a
    batch norm b2 after p2: with c1's stride 2, on 8 x 3 x 3 maps, 144
    values per channel at batch 16, so that the running variance's unbiased
    factor n / (n - 1) moves it by several times the tolerance (on c1's
    16 x 28 x 28 values per channel it is 8e-5: under it). Batch norm on
    [16, 32] after h's relu would test nn.BatchNorm1d but is ill-conditioned
    (units that are zero for most of the batch have a variance near 0):
    PyTorch's own float32 and float64 runs then differ by up to 1e-2."""
    layers = [c1 or conv("c1", 4)]
    if with_bn:
        layers.append(bn("b1"))
    layers += [pool("p1", p1), c2 or conv("c2", 8), pool("p2", "maxpool2d")]
    if late_bn:
        layers.append(bn("b2"))
    layers.append(flatten("g") if head == "flatten" else global_avgpool("g"))
    return layers + [dense("h", 32, "relu"), dense("out", 10)]


VARIANTS = {
    "fashion_cnn": fashion_cnn(),
    "stride2": fashion_cnn(c1=conv("c1", 4, stride=2)),
    "padding0": fashion_cnn(c1=conv("c1", 4, padding=0), c2=conv("c2", 8, padding=0)),
    "kernel5": fashion_cnn(c1=conv("c1", 4, kernel=5, padding=2)),
    "avgpool": fashion_cnn(p1="avgpool2d"),
    "no_bn": fashion_cnn(with_bn=False),
    "groups2": fashion_cnn(c2=conv("c2", 8, groups=2)),
    "global_avgpool": fashion_cnn(head="global_avgpool"),
    "late_batch_norm": fashion_cnn(c1=conv("c1", 4, stride=2), late_bn=True),
}


# ------------------------------------------------------------ the .nn file


def nn_source(variant, prefix):
    lines = ["# %s: written by tests/e2e/torch_cnn.py, which builds the same "
             "network in PyTorch." % variant,
             "model cnn_%s" % variant, "",
             "input x : f32[1, 28, 28]", "label y : class(10)", ""]
    prev = "x"
    for layer in VARIANTS[variant]:
        op, name = layer["op"], layer["name"]
        if op == "conv":
            args = [prev, str(layer["out"]), "kernel = %d" % layer["kernel"]]
            if layer["stride"] != 1:
                args.append("stride = %d" % layer["stride"])
            args.append("padding = %d" % layer["padding"])
            if layer["groups"] != 1:
                args.append("groups = %d" % layer["groups"])
            if layer["act"]:
                args.append(layer["act"])
            text = "conv2d(%s)" % ", ".join(args)
        elif op == "bn":
            text = "batch_norm(%s)" % prev
        elif op in ("maxpool2d", "avgpool2d"):
            text = "%s(%s, %d)" % (op, prev, layer["kernel"])
        elif op in ("flatten", "global_avgpool"):
            text = "%s(%s)" % (op, prev)
        else:
            act = ", " + layer["act"] if layer["act"] else ""
            arg = "%s(%s)" % (layer["pre"], prev) if layer["pre"] else prev
            text = "dense(%s, %d%s)" % (arg, layer["out"], act)
        lines.append("%s = %s" % (name, text))
        prev = name
    lines += ["loss cross_entropy(softmax(%s), y)" % prev, "",
              "train {",
              '  data      idx("%s")' % prefix,
              "  optimizer sgd(lr = 0.05, momentum = 0.9)",
              "  batch 16   epochs 1   seed 3",
              "}"]
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------ the module


class Cnn(torch.nn.Module):
    """The variant as nn.Modules named as nnc names its layers, so that
    state_dict()'s names are nnc's weight names."""

    def __init__(self, variant):
        super().__init__()
        self.layers = VARIANTS[variant]
        channels, size, width = 1, 28, None
        for layer in self.layers:
            op, name = layer["op"], layer["name"]
            if op == "conv":
                k, s, p = layer["kernel"], layer["stride"], layer["padding"]
                self.add_module(name, torch.nn.Conv2d(
                    channels, layer["out"], k, stride=s, padding=p,
                    groups=layer["groups"]))
                channels, size = layer["out"], (size + 2 * p - k) // s + 1
            elif op == "bn" and width is None:
                self.add_module(name, torch.nn.BatchNorm2d(channels))
            elif op == "bn":
                self.add_module(name, torch.nn.BatchNorm1d(width))
            elif op in ("maxpool2d", "avgpool2d"):
                size //= layer["kernel"]
            elif op == "flatten":
                width = channels * size * size
            elif op == "global_avgpool":
                width = channels
            else:
                self.add_module(name, torch.nn.Linear(width, layer["out"]))
                width = layer["out"]

    def forward(self, x):
        for layer in self.layers:
            op, name = layer["op"], layer["name"]
            if op == "maxpool2d":
                x = torch.nn.functional.max_pool2d(x, layer["kernel"])
            elif op == "avgpool2d":
                x = torch.nn.functional.avg_pool2d(x, layer["kernel"])
            elif op == "flatten":
                x = torch.flatten(x, 1)
            elif op == "global_avgpool":
                x = torch.flatten(torch.nn.functional.adaptive_avg_pool2d(x, 1), 1)
            else:
                if layer.get("pre") == "relu":
                    x = torch.relu(x)
                x = getattr(self, name)(x)
                if layer.get("act") == "relu":
                    x = torch.relu(x)
        return x

    def weights(self):
        """What nnc's l2 sums: the conv and dense weights (not batch norm's
        scale, not the biases)."""
        return [m.weight for m in self.modules()
                if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear))]


def state(path, dtype):
    tensors, _ = read(path)
    return {k: torch.tensor(v, dtype=dtype).reshape(shape)
            for k, (shape, v) in tensors.items() if not k.startswith("optimizer.")}


def model_from(variant, path, dtype):
    model = Cnn(variant).to(dtype)
    start = state(path, dtype)
    # Strict: nnc's names and shapes are nn.Conv2d's, nn.BatchNorm2d's
    # (num_batches_tracked included) and nn.Linear's.
    model.load_state_dict(start, strict=True)
    return model, start


def images(prefix, n, dtype):
    x = idx(prefix + "-images-idx3-ubyte.gz", n).float() / 255
    y = idx(prefix + "-labels-idx1-ubyte.gz", n).reshape(n).long()
    return x.reshape(n, 1, 28, 28).to(dtype), y


def options(pairs):
    out = {}
    for pair in pairs:
        key, value = pair.split("=", 1)
        out[key] = tuple(map(float, value.split(","))) if key == "betas" else float(value)
    return out


def relative(mine, p):
    return ((mine - p).abs() / (p.abs() + 1e-3)).max().item()


def train(args, dtype):
    variant, init, after, prefix = args[0:4]
    steps, batch, l2 = int(args[4]), int(args[5]), float(args[6])
    kind, kwargs = args[7], options(args[8:])
    x, y = images(prefix, steps * batch, dtype)
    model, start = model_from(variant, init, dtype)
    model.train()
    opt = {"sgd": torch.optim.SGD, "adam": torch.optim.Adam}[kind](
        model.parameters(), **kwargs)
    for s in range(steps):
        xb, yb = x[s * batch:(s + 1) * batch], y[s * batch:(s + 1) * batch]
        loss = torch.nn.functional.cross_entropy(model(xb), yb)
        if l2:
            loss = loss + l2 * sum((w ** 2).sum() for w in model.weights())
        opt.zero_grad()
        loss.backward()
        opt.step()

    got = state(after, dtype)
    mine_names, torch_names = set(got), set(model.state_dict())
    if mine_names != torch_names:
        print("FAIL: nnc's tensors %s, PyTorch's %s" % (
            sorted(mine_names - torch_names), sorted(torch_names - mine_names)))
        return False
    worst, ok = 0.0, True
    for name, p in model.state_dict().items():
        mine = got[name]
        if list(mine.shape) != list(p.shape):
            print("FAIL: %s: nnc's shape %s, PyTorch's %s" % (name, list(mine.shape), list(p.shape)))
            ok = False
            continue
        if name.endswith("num_batches_tracked"):
            print("%-22s nnc %g, PyTorch %d" % (name, mine.item(), p.item()))
            ok = ok and mine.item() == p.item() == steps
            continue
        err = relative(mine, p.to(dtype))
        moved = (p - start[name]).abs().max().item()
        worst = max(worst, err)
        print("%-22s max relative difference %.2e (moved by up to %.2e)" % (name, err, moved))
        if moved == 0:
            print("FAIL: %s did not change in PyTorch's %d steps" % (name, steps))
            ok = False
    print("%s %s %s (%s): worst %.2e (tolerance %g)" % (
        variant, kind, " ".join(args[8:]), dtype, worst, TOLERANCE))
    return ok and worst <= TOLERANCE


def predict(args, dtype):
    variant, weights, prefix, csv, eval_text = args
    rows = [line.split(",") for line in open(csv).read().splitlines()[1:]]
    n = len(rows)
    x, y = images(prefix, n, dtype)
    model, _ = model_from(variant, weights, dtype)
    model.eval()
    with torch.no_grad():
        logits = model(x)
        prob = torch.softmax(logits, 1)
        loss = torch.nn.functional.cross_entropy(logits, y).item()
        model.train()  # what batch statistics would give instead
        train_prob = torch.softmax(model(x), 1)
    ok, worst, classes = True, 0.0, 0
    for r, (row, cls, p, label) in enumerate(rows):
        want = prob[r].max().item()
        if int(cls) != prob[r].argmax().item():
            # A near-tie may break either way; the probabilities must agree.
            second = prob[r].topk(2).values[1].item()
            if want - second > 1e-5:
                print("FAIL: sample %d: nnc predicts %s, PyTorch %d" % (r, cls, prob[r].argmax().item()))
                ok = False
        classes += int(cls) == prob[r].argmax().item()
        if int(label) != y[r].item():
            print("FAIL: sample %d: nnc's label %s, the file's %d" % (r, label, y[r].item()))
            ok = False
        # predict prints 6 decimals: half a unit of the last is rounding.
        err = max(abs(float(p) - want) - 5e-7, 0) / (want + 1e-3)
        worst = max(worst, err)
    batch_stats = (train_prob - prob).abs().max().item()
    print("predict: %d samples, %d classes as PyTorch's, probabilities: worst "
          "relative difference %.2e (tolerance %g); batch statistics instead of "
          "the running ones would move them by up to %.2e" % (n, classes, worst, TOLERANCE, batch_stats))
    # `nnc eval`: "eval: accuracy 87.50%  loss 0.4321  (64 samples)"
    words = eval_text.replace("%", "").split()
    accuracy = float(words[words.index("accuracy") + 1]) / 100
    nnc_loss = float(words[words.index("loss") + 1])
    want_accuracy = (prob.argmax(1) == y).double().mean().item()
    print("eval: nnc accuracy %.4f loss %.4f, PyTorch %.4f %.6f" % (
        accuracy, nnc_loss, want_accuracy, loss))
    # eval prints the loss to 4 decimals and the accuracy to 2 (in %).
    if abs(nnc_loss - loss) > 5e-5 + TOLERANCE * loss:
        print("FAIL: eval's loss")
        ok = False
    if abs(accuracy - want_accuracy) > 5e-5 + 1.0 / n * (n - classes):
        print("FAIL: eval's accuracy")
        ok = False
    return ok and worst <= TOLERANCE


def main():
    args = sys.argv[1:]
    if not args:
        sys.exit(__doc__)
    command, args = args[0], args[1:]
    dtype = torch.float32
    if args and args[0] == "--double":
        dtype, args = torch.float64, args[1:]
    if command == "variants":
        print("\n".join(VARIANTS))
    elif command == "nn":
        sys.stdout.write(nn_source(args[0], args[1]))
    elif command == "train":
        sys.exit(0 if train(args, dtype) else 1)
    elif command == "predict":
        sys.exit(0 if predict(args, dtype) else 1)
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
