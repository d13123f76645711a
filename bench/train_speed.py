#!/usr/bin/python3
"""Fine-tuning throughput: sqc's SQ fine-tuning vs PyTorch's float training (images/s).

    /usr/bin/python3 bench/train_speed.py [--models lenet5,vgg7s] [--threads 2]
                                          [--batch 64] [--steps 100] [--rounds 3]
                                          [--sqc build/sqc]

Same model (the class in models/make_models.py), same batch size, same thread count, same
Fashion-MNIST images. Each round runs both, alternating (A B, B A, ...):

  pytorch  STEPS training steps (forward, cross-entropy, backward, Adam) on float weights,
           in this process, torch.set_num_threads(T); one untimed warm-up step first;
  sqc      `sqc eval MODEL --config C --quant=sq --report R` with a config that trains
           STEPS batches (train_limit = STEPS*B, 1 epoch, no recovery), OPENBLAS_NUM_THREADS=T;
           the figure is the report's training images/s (the training loop only: forward
           with the quantizer, backward, regularizer, optimizer; no data loading).

Prints the medians and the ratio sqc/pytorch (> 1: sqc fine-tunes faster than PyTorch
trains in float). Debian's python3-torch; a benchmark, not a test.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "models"))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--models", default="lenet5,vgg7s")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--steps", type=int, default=100)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--sqc", default=os.path.join(ROOT, "build", "sqc"))
    a = ap.parse_args()

    import numpy as np
    import torch
    import make_models as mm

    torch.set_num_threads(a.threads)
    root = os.environ.get("SQC_DATA_ROOT", "/usr/share/datasets/fashion-mnist")
    xtr, ytr = mm.load_split(root, "train")
    n = a.steps * a.batch
    x = torch.from_numpy(mm.normalize(xtr[:n]).reshape(n, 1, 28, 28).astype(np.float32))
    y = torch.from_numpy(ytr[:n].astype(np.int64))
    env = dict(os.environ, OPENBLAS_NUM_THREADS=str(a.threads), OMP_NUM_THREADS=str(a.threads))
    print(f"# {' '.join(sys.argv)}\n# batch {a.batch}, {a.steps} steps, {a.threads} threads, "
          f"{a.rounds} rounds alternating; torch {torch.__version__}")
    for name in a.models.split(","):
        model = {"lenet5": mm.LeNet5, "vgg7s": mm.VGG7s}[name]()
        model.train()
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)
        lossf = torch.nn.CrossEntropyLoss()

        def torch_run():
            def one(i):
                xb, yb = x[i * a.batch:(i + 1) * a.batch], y[i * a.batch:(i + 1) * a.batch]
                opt.zero_grad()
                lossf(model(xb), yb).backward()
                opt.step()
            one(0)
            t0 = time.perf_counter()
            for i in range(a.steps):
                one(i)
            return n / (time.perf_counter() - t0)

        tmp = tempfile.mkdtemp()
        cfg = os.path.join(tmp, "c.yaml")
        with open(os.path.join(ROOT, "models", name + ".yaml")) as f:
            data = f.read().split("\nsq:")[0]
        with open(cfg, "w") as f:
            f.write(data + f"\nsq:\n  batch: {a.batch}\n  train_limit: {n}\n  epochs: 1\n"
                    "  recovery_epochs: 0\n")
        rep = os.path.join(tmp, "r.json")

        def sqc_run():
            subprocess.run([a.sqc, "eval", os.path.join(ROOT, "models", name + ".onnx"),
                            "--config", cfg, "--quant=sq", "-q", "--limit", "100",
                            "--report", rep], check=True, env=env, stdout=subprocess.DEVNULL)
            with open(rep) as f:
                return json.load(f)["training"]["images_per_second"]

        pt, sq = [], []
        for r in range(a.rounds):
            for which in ((torch_run, pt), (sqc_run, sq))[:: 1 if r % 2 == 0 else -1]:
                which[1].append(which[0]())
        mp, ms = statistics.median(pt), statistics.median(sq)
        print(f"{name}: pytorch float training {mp:.0f} img/s, sqc SQ fine-tuning {ms:.0f} img/s, "
              f"ratio sqc/pytorch {ms / mp:.2f}  (pytorch {['%.0f' % v for v in pt]}, "
              f"sqc {['%.0f' % v for v in sq]})")


if __name__ == "__main__":
    main()
