"""Reads the first rows of a gzipped IDX file (Fashion-MNIST's format) into a
torch uint8 tensor [count, values per row], for the PyTorch oracles, or into
a numpy array (idx_numpy, for the ONNX Runtime check, which needs no torch)."""
import gzip
import struct


def _rows(path, count):
    """The raw bytes of the first `count` rows and the values per row."""
    with gzip.open(path, "rb") as f:
        blob = f.read()
    ndim = blob[3]
    dims = struct.unpack(">%dI" % ndim, blob[4:4 + 4 * ndim])
    per = 1
    for d in dims[1:]:
        per *= d
    start = 4 + 4 * ndim
    return bytearray(blob[start:start + count * per]), per


def idx(path, count):
    import torch

    data, per = _rows(path, count)
    return torch.frombuffer(data, dtype=torch.uint8).reshape(count, per)


def idx_numpy(path, count):
    import numpy

    data, per = _rows(path, count)
    return numpy.frombuffer(data, dtype=numpy.uint8).reshape(count, per)
