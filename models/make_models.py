#!/usr/bin/python3
"""Float fixture models for sqc: LeNet-5 and VGG-7-small trained on Fashion-MNIST.

A fixture maker (Debian's python3-torch / python3-onnx / numpy), not a build or test
dependency.  Run by hand from anywhere:

    /usr/bin/python3 models/make_models.py                  # both models
    /usr/bin/python3 models/make_models.py --model lenet5   # one model
    /usr/bin/python3 models/make_models.py --check          # re-evaluate the .onnx files only

For each model it trains (seeded, deterministic data order), evaluates in PyTorch on the
10k test images, exports ONNX (opset 13, eval mode, BatchNormalization kept as nodes),
re-evaluates the exported file with the small NumPy ONNX interpreter of onnx_numpy.py (next
to this script), fails if the two accuracies differ by more than 0.0005, and writes
MODEL.onnx and MODEL.yaml next to this script.  The data set is read from --data-root
(default: the Debian package dataset-fashion-mnist's folder; the environment variable
SQC_DATA_ROOT overrides it).
"""
import argparse
import collections
import math
import os
import random
import sys
import time
import warnings

import numpy as np
import onnx
import onnx.numpy_helper
import torch
import torch.nn as nn
import torch.nn.functional as F

from onnx_numpy import read_idx, run as np_run  # models/onnx_numpy.py: NumPy ONNX interpreter

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_DATA_ROOT = "/usr/share/datasets/fashion-mnist"
FILES = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}
SCALE = 1.0 / 255.0
MEAN = 0.2860
STD = 0.3530
MAX_BYTES = 3 * 1024 * 1024
TOLERANCE = 0.0005
EXPECTED_OPS = {"Conv", "BatchNormalization", "Relu", "MaxPool", "Flatten", "Reshape", "Gemm"}


# --------------------------------------------------------------------------- data

def load_split(root, split):
    img_name, lbl_name = FILES[split]
    images = read_idx(os.path.join(root, img_name))
    labels = read_idx(os.path.join(root, lbl_name))
    if images.ndim != 3 or labels.ndim != 1 or images.shape[0] != labels.shape[0]:
        raise ValueError(f"{split}: images {images.shape} vs labels {labels.shape}")
    return images, labels.astype(np.int64)


def normalize(images_u8):
    """uint8 N x 28 x 28 -> float32 N x 1 x 28 x 28, exactly as the YAML's normalize says."""
    x = images_u8.astype(np.float32) * np.float32(SCALE)
    x = (x - np.float32(MEAN)) / np.float32(STD)
    return x[:, None, :, :]


def augment(xb_u8, gen, crop_pad, flip):
    """Light augmentation on a uint8 batch (N x 28 x 28 tensor): random crop after zero
    padding by crop_pad pixels (0 = background in raw pixels), random horizontal flip."""
    n, h, w = xb_u8.shape
    x = xb_u8
    if crop_pad:
        p = crop_pad
        padded = F.pad(x, (p, p, p, p))
        dy = torch.randint(0, 2 * p + 1, (n,), generator=gen)
        dx = torch.randint(0, 2 * p + 1, (n,), generator=gen)
        rows = (dy[:, None] + torch.arange(h)[None, :])[:, :, None]
        cols = (dx[:, None] + torch.arange(w)[None, :])[:, None, :]
        x = padded[torch.arange(n)[:, None, None], rows, cols]
    if flip:
        m = torch.rand(n, generator=gen) < 0.5
        x = torch.where(m[:, None, None], x.flip(2), x)
    return x


def to_input(xb_u8):
    x = xb_u8.float() * SCALE
    return ((x - MEAN) / STD).unsqueeze(1)


# --------------------------------------------------------------------------- models

class LeNet5(nn.Module):
    """LeNet-5 with ReLU and max pooling.  conv1 uses padding 2 so a 28x28 input behaves
    like the classic 32x32 one: 28 -conv5/p2-> 28 -pool-> 14 -conv5-> 10 -pool-> 5,
    16*5*5 = 400 features -> 120 -> 84 -> 10."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, 5, padding=2)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = torch.flatten(x, 1)
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        return self.fc3(x)


class VGG7s(nn.Module):
    """VGG-7-small: [conv3x3 32, conv3x3 32, pool] [64, 64, pool] [128, 128, pool], fc 256,
    fc 10; every conv is conv (with bias) -> BatchNorm -> ReLU, padding 1.
    28 -> 14 -> 7 -> 3 (floor), 128*3*3 = 1152 features.  Dropout before fc1 (identity in
    eval mode, absent from the export)."""

    def __init__(self, dropout=0.25):
        super().__init__()
        chans = [(1, 32), (32, 32), (32, 64), (64, 64), (64, 128), (128, 128)]
        layers = []
        for i, (cin, cout) in enumerate(chans):
            layers += [nn.Conv2d(cin, cout, 3, padding=1), nn.BatchNorm2d(cout), nn.ReLU()]
            if i % 2 == 1:
                layers.append(nn.MaxPool2d(2))
        self.features = nn.Sequential(*layers)
        self.drop = nn.Dropout(dropout)
        self.fc1 = nn.Linear(128 * 3 * 3, 256)
        self.fc2 = nn.Linear(256, 10)

    def forward(self, x):
        x = self.features(x)
        x = torch.flatten(x, 1)
        x = F.relu(self.fc1(self.drop(x)))
        return self.fc2(x)


RECIPES = {
    "lenet5": dict(
        make=LeNet5, title="LeNet-5",
        optimizer="adam", lr=2e-3, weight_decay=0.0, momentum=None, epochs=20, batch=128,
        warmup_epochs=0, crop_pad=0, flip=False, label_smoothing=0.0, seed=1,
        regularization="none",
    ),
    "vgg7s": dict(
        make=VGG7s, title="VGG-7-small",
        optimizer="sgd", lr=0.05, weight_decay=5e-4, momentum=0.9, epochs=12, batch=128,
        warmup_epochs=1, crop_pad=2, flip=True, label_smoothing=0.0, seed=1,
        regularization="dropout 0.25 before fc1 (training only, absent from the export), "
                       "BatchNorm momentum 0.1 eps 1e-5",
    ),
}


def module_from_onnx(name, onnx_path):
    """The fixture's PyTorch module (RECIPES[name]) with the weights of an .onnx file made
    from it (the initializers carry the state_dict names; nothing folded); for benchmarks."""
    import numpy as np
    import onnx
    import onnx.numpy_helper
    model = RECIPES[name]["make"]()
    m = onnx.load(onnx_path)
    inits = {t.name: onnx.numpy_helper.to_array(t) for t in m.graph.initializer}
    for node in m.graph.node:
        if node.op_type == "BatchNormalization":
            for a in node.attribute:
                if a.name == "epsilon" and abs(a.f - 1e-5) > 1e-9:
                    raise SystemExit(f"{onnx_path}: BatchNormalization epsilon {a.f}, "
                                     f"the module uses 1e-5")
    state = model.state_dict()
    new = {}
    missing = []
    for key, ref in state.items():
        if key.endswith("num_batches_tracked"):
            new[key] = ref
            continue
        if key not in inits:
            missing.append(key)
            continue
        arr = inits[key]
        if tuple(arr.shape) != tuple(ref.shape):
            raise SystemExit(f"{onnx_path}: {key} has shape {arr.shape}, the module "
                             f"wants {tuple(ref.shape)}")
        new[key] = torch.from_numpy(np.array(arr, dtype=np.float32))
    if missing:
        raise SystemExit(f"{onnx_path}: no initializer for {', '.join(missing)} "
                         f"(initializers: {', '.join(sorted(inits))})")
    model.load_state_dict(new)
    model.eval()
    return model



def describe_recipe(r):
    wd = (f", weight_decay={r['weight_decay']:g} on conv/fc weights only"
          if r["weight_decay"] else "")
    if r["optimizer"] == "adam":
        opt = f"Adam(lr={r['lr']:g}{wd})"
    else:
        opt = f"SGD(lr={r['lr']:g}, momentum={r['momentum']:g}, nesterov=True{wd})"
    sched = "cosine to 0 per step"
    if r["warmup_epochs"]:
        sched = f"linear warmup {r['warmup_epochs']} epoch, then " + sched
    aug = []
    if r["crop_pad"]:
        aug.append(f"random crop 28x28 after zero padding {r['crop_pad']}")
    if r["flip"]:
        aug.append("horizontal flip p=0.5")
    return opt, sched, ", ".join(aug) if aug else "none"


# --------------------------------------------------------------------------- training

def seed_everything(seed):
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def torch_accuracy(model, x_test_f32, y_test, batch=500):
    model.eval()
    correct = 0
    preds = []
    with torch.no_grad():
        for i in range(0, len(y_test), batch):
            out = model(torch.from_numpy(x_test_f32[i:i + batch]))
            p = out.argmax(1).numpy()
            preds.append(p)
            correct += int((p == y_test[i:i + batch]).sum())
    return correct, np.concatenate(preds)


def train(name, r, train_set, x_test_f32, y_test, log):
    seed_everything(r["seed"])
    model = r["make"]()
    x_tr = torch.from_numpy(np.array(train_set[0]))  # writable copy
    y_tr = torch.from_numpy(train_set[1])
    n = len(y_tr)
    steps_per_epoch = math.ceil(n / r["batch"])
    total = steps_per_epoch * r["epochs"]
    warm = steps_per_epoch * r["warmup_epochs"]

    decay, no_decay = [], []
    for pname, p in model.named_parameters():
        (no_decay if p.ndim <= 1 else decay).append(p)
    groups = [{"params": decay, "weight_decay": r["weight_decay"]},
              {"params": no_decay, "weight_decay": 0.0}]
    if r["optimizer"] == "adam":
        opt = torch.optim.Adam(groups, lr=r["lr"])
    else:
        opt = torch.optim.SGD(groups, lr=r["lr"], momentum=r["momentum"], nesterov=True)

    def lr_at(step):
        if step < warm:
            return r["lr"] * (step + 1) / warm
        t = (step - warm) / max(1, total - warm)
        return r["lr"] * 0.5 * (1.0 + math.cos(math.pi * t))

    gen = torch.Generator().manual_seed(r["seed"])  # data order + augmentation
    step = 0
    t0 = time.time()
    for epoch in range(r["epochs"]):
        model.train()
        perm = torch.randperm(n, generator=gen)
        loss_sum = 0.0
        seen = 0
        te = time.time()
        for i in range(0, n, r["batch"]):
            idx = perm[i:i + r["batch"]]
            xb = augment(x_tr[idx], gen, r["crop_pad"], r["flip"])
            xb = to_input(xb)
            yb = y_tr[idx]
            for g in opt.param_groups:
                g["lr"] = lr_at(step)
            out = model(xb)
            loss = F.cross_entropy(out, yb, label_smoothing=r["label_smoothing"])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            step += 1
            loss_sum += float(loss) * len(idx)
            seen += len(idx)
        correct, _ = torch_accuracy(model, x_test_f32, y_test)
        log(f"{name}: epoch {epoch + 1}/{r['epochs']} loss {loss_sum / seen:.4f} "
            f"test {correct / len(y_test):.4f} ({correct}/{len(y_test)}) "
            f"epoch {time.time() - te:.0f}s total {time.time() - t0:.0f}s")
    return model, time.time() - t0


# --------------------------------------------------------------------------- export

def export(model, path):
    model.eval()
    dummy = torch.zeros(1, 1, 28, 28)
    # PRESERVE with an eval-mode model exports inference graphs; torch's warning about
    # constant folding concerns training-mode models only.
    warnings.filterwarnings("ignore", message="It is recommended that constant folding")
    torch.onnx.export(
        model, dummy, path, opset_version=13,
        input_names=["input"], output_names=["logits"],
        dynamic_axes={"input": {0: "N"}, "logits": {0: "N"}},
        do_constant_folding=True,
        training=torch.onnx.TrainingMode.PRESERVE,  # keeps BatchNormalization nodes
    )
    m = onnx.load(path)
    onnx.checker.check_model(m)
    return m


def op_histogram(m):
    return dict(collections.Counter(n.op_type for n in m.graph.node))


# --------------------------------------------------------------------------- NumPy ONNX check

def onnx_accuracy(model, x_test_f32, y_test, batch=100):
    correct = 0
    preds = []
    for i in range(0, len(y_test), batch):
        p = np_run(model, x_test_f32[i:i + batch])[0].argmax(1)
        preds.append(p)
        correct += int((p == y_test[i:i + batch]).sum())
    return correct, np.concatenate(preds)


# --------------------------------------------------------------------------- outputs

def write_yaml(path, name, r, res):
    opt, sched, aug = describe_recipe(r)
    n = res["n"]
    lines = [
        f"# sqc config for models/{name}.onnx: {r['title']} (float) on Fashion-MNIST.",
        "# Made by models/make_models.py; do not edit by hand.",
        f"# pytorch_accuracy: {res['torch_correct'] / n:.4f} ({res['torch_correct']}/{n})",
        f"# numpy_onnx_accuracy: {res['onnx_correct'] / n:.4f} ({res['onnx_correct']}/{n})"
        "  (the exported .onnx run by make_models.py's NumPy interpreter)",
        f"# recipe: {opt}; {sched}; epochs {r['epochs']}; batch {r['batch']}; "
        "cross-entropy loss",
        f"# augmentation: {aug}",
        f"# regularization: {r['regularization']}",
        f"# seed: {r['seed']} (torch.manual_seed, numpy, random; data order and augmentation "
        "from a seeded torch.Generator)",
        f"# training wall time: {res['train_seconds']:.0f} s on {res['threads']} CPU threads "
        f"(torch {torch.__version__})",
        f"# command: /usr/bin/python3 models/make_models.py --model {name}",
        "",
        "data:",
        "  format: idx",
        f"  train: {{images: {FILES['train'][0]}, labels: {FILES['train'][1]}}}",
        f"  test:  {{images: {FILES['test'][0]},  labels: {FILES['test'][1]}}}",
        "  classes: 10",
        f"  normalize: {{scale: {SCALE!r}, mean: [{MEAN:.4f}], std: [{STD:.4f}]}}",
        "  layout: nchw",
        "",
    ]
    with open(path, "w") as f:
        f.write("\n".join(lines))


def check_onnx(name, path, x_test, y_test, log):
    m = onnx.load(path)
    hist = op_histogram(m)
    t = time.time()
    correct, preds = onnx_accuracy(m, x_test, y_test)
    log(f"{name}: numpy-on-onnx accuracy {correct / len(y_test):.4f} "
        f"({correct}/{len(y_test)}) in {time.time() - t:.0f}s; ops {hist}; "
        f"{os.path.getsize(path)} bytes")
    return correct, preds, hist


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data-root", default=os.environ.get("SQC_DATA_ROOT", DEFAULT_DATA_ROOT),
                    help="folder holding the Fashion-MNIST IDX files "
                         "(default: $SQC_DATA_ROOT or %(default)s)")
    ap.add_argument("--model", choices=["all"] + sorted(RECIPES), default="all")
    ap.add_argument("--out-dir", default=HERE, help="where to write MODEL.onnx/.yaml")
    ap.add_argument("--epochs", type=int, help="override the recipe's epoch count (testing)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--check", action="store_true",
                    help="only re-evaluate the existing .onnx files with NumPy")
    args = ap.parse_args()

    torch.set_num_threads(args.threads)

    def log(msg):
        print(time.strftime("%H:%M:%S"), msg, flush=True)

    names = sorted(RECIPES) if args.model == "all" else [args.model]
    x_test_u8, y_test = load_split(args.data_root, "test")
    x_test = normalize(x_test_u8)

    if args.check:
        for name in names:
            check_onnx(name, os.path.join(args.out_dir, name + ".onnx"), x_test, y_test, log)
        return 0

    train_set = load_split(args.data_root, "train")
    log(f"data: train {train_set[0].shape}, test {x_test_u8.shape} from {args.data_root}")
    status = 0
    for name in names:
        r = dict(RECIPES[name])
        if args.epochs:
            r["epochs"] = args.epochs
        model, secs = train(name, r, train_set, x_test, y_test, log)
        torch_correct, torch_preds = torch_accuracy(model, x_test, y_test)
        onnx_path = os.path.join(args.out_dir, name + ".onnx")
        export(model, onnx_path)
        onnx_correct, onnx_preds, hist = check_onnx(name, onnx_path, x_test, y_test, log)
        n = len(y_test)
        log(f"{name}: pytorch accuracy {torch_correct / n:.4f} ({torch_correct}/{n}); "
            f"{int((torch_preds != onnx_preds).sum())} predictions differ; "
            f"training {secs:.0f}s")
        res = dict(n=n, torch_correct=torch_correct, onnx_correct=onnx_correct,
                   train_seconds=secs, threads=args.threads)
        write_yaml(os.path.join(args.out_dir, name + ".yaml"), name, r, res)
        unexpected = set(hist) - EXPECTED_OPS
        if unexpected:
            log(f"{name}: note: unexpected ops {sorted(unexpected)}")
        if abs(torch_correct - onnx_correct) / n > TOLERANCE:
            log(f"{name}: ERROR: PyTorch and NumPy-on-ONNX accuracies differ by more than "
                f"{TOLERANCE}")
            status = 1
        if os.path.getsize(onnx_path) > MAX_BYTES:
            log(f"{name}: ERROR: {onnx_path} is larger than {MAX_BYTES} bytes")
            status = 1
    return status


if __name__ == "__main__":
    sys.exit(main())
