"""Reads the first rows of a gzipped IDX file (Fashion-MNIST's format) into a
torch uint8 tensor [count, values per row], for the PyTorch oracles."""
import gzip
import struct

import torch


def idx(path, count):
    with gzip.open(path, "rb") as f:
        blob = f.read()
    ndim = blob[3]
    dims = struct.unpack(">%dI" % ndim, blob[4:4 + 4 * ndim])
    per = 1
    for d in dims[1:]:
        per *= d
    start = 4 + 4 * ndim
    data = torch.frombuffer(bytearray(blob[start:start + count * per]), dtype=torch.uint8)
    return data.reshape(count, per)
