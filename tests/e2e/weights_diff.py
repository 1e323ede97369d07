"""Compares two safetensors files of the same model: prints the largest
absolute difference over every tensor, and exits 1 when it exceeds the
tolerance given (or when the tensors differ in names or shapes). With a
SUFFIX, only the tensors whose names end with it are compared.
Usage: weights_diff.py A B [TOLERANCE [SUFFIX]]"""
import sys

from safetensors_read import read

a, _ = read(sys.argv[1])
b, _ = read(sys.argv[2])
tol = float(sys.argv[3]) if len(sys.argv) > 3 else float("inf")
suffix = sys.argv[4] if len(sys.argv) > 4 else ""
if a.keys() != b.keys():
    sys.exit("tensors differ: %s vs %s" % (sorted(a), sorted(b)))
worst, where = 0.0, ""
for k in sorted(k for k in a if k.endswith(suffix)):
    if a[k][0] != b[k][0]:
        sys.exit("%s: shape %s vs %s" % (k, a[k][0], b[k][0]))
    d = max((abs(x - y) for x, y in zip(a[k][1], b[k][1])), default=0.0)
    if d > worst:
        worst, where = d, k
print("largest difference %.3g (%s)" % (worst, where or "none"))
sys.exit(0 if worst <= tol else 1)
