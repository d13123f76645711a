#!/usr/bin/env python3
"""bench/float_models.py: export the torchvision models of bench/float_speed.sh to ONNX.

    python3 bench/float_models.py --list           # names and input shapes
    python3 bench/float_models.py DIR [NAME ...]   # writes DIR/NAME.onnx (default: all)

Each model is torchvision's architecture with untrained weights, seeded (torch.manual_seed(0)
before it is built; the speed does not depend on the values), in eval mode, exported at
batch 1 with opset 13 and constant folding, input "input", output "logits". A model whose
file already exists in DIR is skipped. Needs torch and torchvision (Debian python3-torch
1.13, python3-torchvision 0.14).
"""
import argparse
import os
import sys

# name: (torchvision constructor, keyword arguments, input shape)
MODELS = {
    "resnet18_224": ("resnet18", {}, (1, 3, 224, 224)),
    "resnet18_cifar": ("resnet18", {"num_classes": 10}, (1, 3, 32, 32)),
    "mobilenet_v2": ("mobilenet_v2", {}, (1, 3, 224, 224)),
    "squeezenet1_1": ("squeezenet1_1", {}, (1, 3, 224, 224)),
}


def export(name, path):
    import torch
    import torchvision

    ctor, kwargs, shape = MODELS[name]
    torch.manual_seed(0)
    model = getattr(torchvision.models, ctor)(weights=None, **kwargs).eval()
    x = torch.randn(*shape)
    tmp = f"{path}.tmp{os.getpid()}"
    with torch.no_grad():
        torch.onnx.export(model, x, tmp, opset_version=13, do_constant_folding=True,
                          input_names=["input"], output_names=["logits"])
    os.replace(tmp, path)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--list", action="store_true", help="print names and input shapes")
    ap.add_argument("dir", nargs="?", help="output directory")
    ap.add_argument("names", nargs="*", help="models to export (default: all)")
    a = ap.parse_args()
    if a.list:
        for name, (_, _, shape) in MODELS.items():
            print(name, ",".join(map(str, shape)))
        return 0
    if not a.dir:
        ap.error("DIR is required (or --list)")
    bad = [n for n in a.names if n not in MODELS]
    if bad:
        ap.error(f"unknown model(s) {' '.join(bad)}; --list shows the names")
    os.makedirs(a.dir, exist_ok=True)
    for name in a.names or MODELS:
        path = os.path.join(a.dir, f"{name}.onnx")
        if os.path.exists(path):
            continue
        print(f"float_models.py: exporting {name} to {path}", file=sys.stderr)
        export(name, path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
