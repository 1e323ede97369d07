#!/usr/bin/env python3
"""The shape of nnc's own code, as issue 13 fixed it: no source file over
600 lines and no function over 80 lines, in the folders that make nnc
(frontend ir passes codegen runtime tools).

A function is found the way the LLVM style lays it out: a line at column 0
that ends a signature with `{` (not a namespace, class, struct, enum or
initializer), up to the next line that is exactly `}`. Lambdas and local
classes count inside their function.

usage: code_shape.py [--report] ROOT   (--report lists the longest, never fails)
"""
import os
import re
import sys

FOLDERS = ["frontend", "ir", "passes", "codegen", "runtime", "tools"]
MAX_FILE = 600
MAX_FUNCTION = 80
CLASS = re.compile(r"^(class|struct)\s")
ACCESS = re.compile(r"^(public|private|protected)\s*:")
NOT_A_FUNCTION = re.compile(r"^(namespace|class|struct|enum|union|extern|template\s*<[^>]*>\s*(class|struct))\b")


def sources(root):
    for folder in FOLDERS:
        for dirpath, _, names in os.walk(os.path.join(root, folder)):
            for name in sorted(names):
                if name.endswith((".cpp", ".h", ".def")):
                    yield os.path.join(dirpath, name)


def functions(lines):
    """(first line number, length, signature) of each function defined at
    namespace scope (column 0) or in a class body (column 2)."""
    yield from functions_at(lines, "")
    # Member functions written inside a class body at namespace scope.
    i = 0
    while i < len(lines):
        if CLASS.match(lines[i]) and lines[i].rstrip().endswith("{"):
            end = i + 1
            while end < len(lines) and not lines[end].startswith("};"):
                end += 1
            for line, length, sig in functions_at(lines[i + 1:end], "  "):
                yield line + i + 1, length, sig
            i = end
        i += 1


def functions_at(lines, indent):
    i = 0
    while i < len(lines):
        line = lines[i]
        body = line[len(indent):]
        if (not line.startswith(indent) or not body[:1].isalpha()
                or NOT_A_FUNCTION.match(body) or ACCESS.match(body)
                or line.rstrip().endswith(";")):
            i += 1
            continue
        # The signature runs to the first line that ends with `{`, unless a
        # `;` or a blank line ends the declaration first.
        j = i
        while j < len(lines) and j - i < 8:
            text = lines[j].rstrip()
            if text.endswith("{") and not text.endswith("= {"):
                break
            if text.endswith(";") or text == "":
                j = len(lines)
                break
            j += 1
        if j >= len(lines) or j - i >= 8 or "(" not in "".join(lines[i:j + 1]):
            i += 1
            continue
        if lines[j].rstrip().endswith("}"):  # a one-line body
            i = j + 1
            continue
        k = j + 1
        close = indent + "}"
        while k < len(lines) and not (lines[k] == close or lines[k].startswith(close + " //")):
            k += 1
        yield i + 1, k - i + 1, line.strip()
        i = k + 1


def main(argv):
    report = "--report" in argv
    root = [a for a in argv[1:] if a != "--report"][0]
    bad = []
    longest = []
    for path in sources(root):
        with open(path, encoding="utf-8") as f:
            lines = f.read().split("\n")
        rel = os.path.relpath(path, root)
        n = len(lines) - (1 if lines and lines[-1] == "" else 0)
        if n > MAX_FILE:
            bad.append(f"{rel}: {n} lines (at most {MAX_FILE})")
        for line, length, sig in functions(lines):
            longest.append((length, f"{rel}:{line}: {sig[:70]}"))
            if length > MAX_FUNCTION:
                bad.append(f"{rel}:{line}: function of {length} lines (at most {MAX_FUNCTION}): {sig[:70]}")
    if report:
        for length, where in sorted(longest, reverse=True)[:40]:
            print(f"{length:5d}  {where}")
        print(f"{len(bad)} problems")
        return 0
    for b in bad:
        print(b)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
