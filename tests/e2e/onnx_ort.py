"""ONNX Runtime against `nnc predict` (tests/e2e/onnx_export.sh).

usage: onnx_ort.py MODEL.onnx PREDICT.csv IMAGES.gz COUNT

Runs the exported model on the first COUNT images of the gzipped IDX file
(pixels / 255, as nnc loads them, reshaped to the model's input without its
batch dimension "N") and compares with nnc predict's CSV (row, prediction,
probability, label): ONNX Runtime's probability of nnc's class must be nnc's
to 1e-5, and no other class may beat it by more than 1e-5. Prints the
largest difference; exits 1 on a mismatch."""
import csv
import os
import sys

import numpy
import onnxruntime

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from idx_read import idx_numpy  # noqa: E402

TOL = 1e-5


def main():
    model, predictions, images, count = sys.argv[1:5]
    count = int(count)
    opts = onnxruntime.SessionOptions()
    opts.intra_op_num_threads = 2
    sess = onnxruntime.InferenceSession(model, opts,
                                        providers=["CPUExecutionProvider"])
    inp = sess.get_inputs()[0]
    assert inp.shape[0] == "N", "batch dimension %r, want 'N'" % inp.shape[0]
    x = idx_numpy(images, count).astype(numpy.float32) / 255.0
    x = x.reshape([count] + [int(d) for d in inp.shape[1:]])
    probs = sess.run(["pred"], {inp.name: x})[0]
    with open(predictions) as f:
        rows = list(csv.DictReader(f))
    if len(rows) != count:
        print("FAIL: nnc predict gave %d rows, want %d" % (len(rows), count))
        return 1
    worst, bad = 0.0, 0
    for r in rows:
        i, cls, p = int(r["row"]), int(r["prediction"]), float(r["probability"])
        diff = abs(float(probs[i, cls]) - p)
        beaten = float(probs[i].max()) - p
        worst = max(worst, diff, beaten)
        if diff > TOL or beaten > TOL:
            bad += 1
            if bad <= 5:
                print("row %d: nnc class %d p=%.6f, onnxruntime p=%.8f, its best %d p=%.8f"
                      % (i, cls, p, probs[i, cls], probs[i].argmax(), probs[i].max()))
    print("%s: %d rows, largest difference %.2e (onnxruntime %s)"
          % (os.path.basename(model), count, worst, onnxruntime.__version__))
    if bad:
        print("FAIL: %d rows differ by more than %g" % (bad, TOL))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
