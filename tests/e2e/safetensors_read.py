"""Reads a safetensors file with nothing but the standard library: the
outside check that nnc writes the format as published (8-byte little-endian
header size, JSON header, little-endian data)."""
import json
import struct


def read(path):
    """Returns ({name: (shape, [floats])}, metadata)."""
    with open(path, "rb") as f:
        blob = f.read()
    (n,) = struct.unpack("<Q", blob[:8])
    header = json.loads(blob[8:8 + n])
    meta = header.pop("__metadata__", {})
    data = blob[8 + n:]
    out = {}
    for name, info in header.items():
        assert info["dtype"] == "F32", info
        b, e = info["data_offsets"]
        count = (e - b) // 4
        out[name] = (info["shape"], list(struct.unpack("<%df" % count, data[b:e])))
    return out, meta
