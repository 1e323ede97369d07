#!/usr/bin/env python3
"""Counts the coloured pixels of a box of a PNG screenshot (no PIL needed):
8-bit RGB or RGBA, non-interlaced, as Chromium writes them.

usage: png_pixels.py FILE.png X Y W H
prints: coloured=N blue=N orange=N total=N (coloured: max - min channel > 60;
blue: b > r + 60; orange: r > b + 60)."""
import struct
import sys
import zlib


def read_png(path):
    data = open(path, "rb").read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        sys.exit(f"{path}: not a PNG")
    pos, idat, width = 8, b"", 0
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            width, height, depth, ctype, _, _, interlace = struct.unpack(
                ">IIBBBBB", body)
            if depth != 8 or ctype not in (2, 6) or interlace:
                sys.exit(f"{path}: unsupported PNG (depth {depth}, type {ctype})")
            bpp = 3 if ctype == 2 else 4
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    raw = zlib.decompress(idat)
    stride = width * bpp
    rows, prev = [], bytearray(stride)
    for y in range(height):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            if f == 1:
                line[i] = (line[i] + a) & 255
            elif f == 2:
                line[i] = (line[i] + b) & 255
            elif f == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pr = a if pa <= pb and pa <= pc else b if pb <= pc else c
                line[i] = (line[i] + pr) & 255
        rows.append(line)
        prev = line
    return width, height, bpp, rows


def main():
    path, x, y, w, h = sys.argv[1], *map(int, sys.argv[2:6])
    width, height, bpp, rows = read_png(path)
    coloured = blue = orange = total = 0
    for yy in range(max(0, y), min(height, y + h)):
        line = rows[yy]
        for xx in range(max(0, x), min(width, x + w)):
            r, g, b = line[xx * bpp:xx * bpp + 3]
            total += 1
            if max(r, g, b) - min(r, g, b) > 60:
                coloured += 1
            if b > r + 60:
                blue += 1
            if r > b + 60:
                orange += 1
    print(f"coloured={coloured} blue={blue} orange={orange} total={total}")


main()
