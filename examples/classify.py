#!/usr/bin/env python3
"""Classify a PGM image with a model compiled by sqc, from Python through ctypes.

    sqc models/lenet5.onnx --config models/lenet5.yaml --quant=sq -o lenet5.so
    python3 examples/classify.py ./lenet5.so image.pgm [--name lenet5] [--mean M --std S]

The model's functions are NAME_run etc. (NAME: the .so's stem unless --name). Pixels are
scaled to [0, 1] and normalized as (x - mean) / std (defaults: Fashion-MNIST). Only the
standard library is needed; the model calls no malloc: Python gives it the workspace.
"""
import argparse
import ctypes
import os
import re
import sys

FASHION = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
           "Sneaker", "Bag", "Ankle boot"]


def read_pgm(path):
    with open(path, "rb") as f:
        data = f.read()
    m = re.match(rb"P5\s+(\d+)\s+(\d+)\s+(\d+)\s", data)
    if not m or int(m.group(3)) > 255:
        raise SystemExit(f"classify.py: {path}: not an 8-bit binary PGM")
    w, h, maxv = (int(g) for g in m.groups())
    pixels = data[m.end():m.end() + w * h]
    if len(pixels) != w * h:
        raise SystemExit(f"classify.py: {path}: truncated")
    return [p / maxv for p in pixels]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("model")
    ap.add_argument("image")
    ap.add_argument("--name")
    ap.add_argument("--mean", type=float, default=0.2860)
    ap.add_argument("--std", type=float, default=0.3530)
    a = ap.parse_args()
    name = a.name or re.sub(r"\W", "_", os.path.basename(a.model).split(".")[0])
    lib = ctypes.CDLL(os.path.abspath(a.model))
    fn = lambda s: getattr(lib, f"{name}_{s}")
    for s in ("workspace_size", "input_size", "output_size"):
        fn(s).restype = ctypes.c_size_t
    run = fn("run")
    run.argtypes = [ctypes.POINTER(ctypes.c_float), ctypes.POINTER(ctypes.c_float),
                    ctypes.c_void_p]
    run.restype = ctypes.c_int
    nin, nout = fn("input_size")(), fn("output_size")()
    pixels = read_pgm(a.image)
    if len(pixels) != nin:
        raise SystemExit(f"classify.py: the model takes {nin} values, the image has {len(pixels)}")
    x = (ctypes.c_float * nin)(*[(p - a.mean) / a.std for p in pixels])
    y = (ctypes.c_float * nout)()
    # the workspace must be 64-byte aligned: over-allocate and align the address
    ws = ctypes.create_string_buffer(fn("workspace_size")() + 64)
    ws_ptr = (ctypes.addressof(ws) + 63) & ~63
    if run(x, y, ctypes.c_void_p(ws_ptr)) != 0:
        raise SystemExit("classify.py: the model failed")
    best = max(range(nout), key=lambda i: y[i])
    label = f": {FASHION[best]}" if nout == 10 else ""
    print(f"class {best}{label} (score {y[best]:.4f})")


if __name__ == "__main__":
    sys.exit(main())
