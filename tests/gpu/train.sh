#!/usr/bin/env bash
# nnc train on the GPU, on real data (Fashion-MNIST):
#   - 50 steps of mnist_mlp with --backend=cuda and with --backend=cpu, from
#     the same seed and batches, fused and unfused, with the default tiles
#     and with every GEMM on big tiles: the saved weights agree to float
#     tolerance (issue 5: "the same weights as the CPU backend");
#   - 20 steps of examples/fashion_cnn.nn (issue 16) on both backends save
#     the same weights and running statistics;
#   - three epochs with --backend=cuda reach 85% test accuracy, as on the
#     interpreter (e2e/mnist_accuracy.sh).
source "$(dirname "$0")/lib.bash"
if [ ! -e "$FMNIST/train-images-idx3-ubyte.gz" ]; then
  echo "skip: Fashion-MNIST is not installed (Debian dataset-fashion-mnist)"
  exit 77
fi

same_weights() { # A B WHAT: every tensor within 1e-3 (relative to its scale)
  "$PYTHON" - "$1" "$2" "$3" "$NNC_SOURCE_DIR/tests/e2e" <<'PY' || fail "$3"
import sys
sys.path.insert(0, sys.argv[4])
from safetensors_read import read
a, _ = read(sys.argv[1])
b, _ = read(sys.argv[2])
assert a.keys() == b.keys(), (sorted(a), sorted(b))
worst = 0.0
for name in a:
    (sa, va), (sb, vb) = a[name], b[name]
    assert sa == sb, (name, sa, sb)
    scale = max(1.0, max(abs(x) for x in vb))
    err = max(abs(x - y) for x, y in zip(va, vb)) / scale
    worst = max(worst, err)
    if err > 1e-3:
        sys.exit(f"{name}: differs by {err:.3g} (relative to {scale:.3g})")
print(f"ok: {sys.argv[3]}: {len(a)} tensors, largest difference {worst:.3g}")
PY
}

for fuse in all none; do
  for tiles in "" 1; do
    for backend in cuda cpu; do
      NNC_CUDA_BIG_TILES_FROM=$tiles expect_ok "$NNC" train "$EX/mnist_mlp.nn" \
        --backend=$backend --steps 50 --fuse=$fuse --quiet \
        --save "$TMP/$backend.safetensors"
    done
    same_weights "$TMP/cuda.safetensors" "$TMP/cpu.safetensors" \
      "50 steps, --fuse=$fuse${tiles:+, every GEMM on big tiles}: cuda = cpu"
  done
done

# The CNN of issue 16 (conv2d, batch norm, pooling: the spatial kernels):
# 20 steps on the GPU and on the CPU backend, fused and unfused, save the
# same weights, running statistics included.
if [ -e "$EX/fashion_cnn.nn" ]; then
  for fuse in all none; do
    for backend in cuda cpu; do
      expect_ok "$NNC" train "$EX/fashion_cnn.nn" --backend=$backend \
        --steps 20 --fuse=$fuse --quiet --save "$TMP/cnn-$backend.safetensors"
    done
    same_weights "$TMP/cnn-cuda.safetensors" "$TMP/cnn-cpu.safetensors" \
      "fashion_cnn, 20 steps, --fuse=$fuse: cuda = cpu"
  done
else
  echo "note: examples/fashion_cnn.nn is missing: the CNN steps are not run"
fi

NNC_BACKEND=cuda bash "$NNC_SOURCE_DIR/tests/e2e/mnist_accuracy.sh" ||
  fail "three epochs on the GPU did not reach 85%"
finish
