#!/usr/bin/python3
"""Inference speed of compiled models (.so) against PyTorch on the CPU, one thread.

    /usr/bin/python3 bench/native_speed.py [--models lenet5,vgg7s] [--images 1000]
                                           [--rounds 5] [--sqc build/sqc]

For each model it compiles, with `sqc`, the float model and SQ-quantized variants (1/2-bit
weights; activations float, 8-bit and 2-bit), fine-tuned on a tiny subset
(tests/configs/sq_tiny.yaml: the speed does not depend on how long one fine-tunes). Then it
times, alternating and R times each, on the first N normalized test images:

  sqc VARIANT   NAME_run_batch(N, ...) of the .so through ctypes (one call; one thread:
                generated code is single-threaded), with one workspace;
  torch b1      PyTorch's float model, torch.set_num_threads(1), one image per forward
                (the latency an app sees), under torch.no_grad();
  torch b100    the same in batches of 100 (PyTorch's best case for throughput).

It prints the medians in microseconds per image and the ratios sqc/torch (< 1: sqc is
faster), and checks first that the float .so gives PyTorch's logits within 1e-4 relative.
This is a benchmark, not a test: timings on a shared machine are noisy.
"""
import argparse
import ctypes
import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
os.environ["OMP_NUM_THREADS"] = "1"
os.environ["OPENBLAS_NUM_THREADS"] = "1"

import numpy as np  # noqa: E402
import torch  # noqa: E402

sys.path.insert(0, os.path.join(ROOT, "models"))
import make_models as mm  # noqa: E402

VARIANTS = [("float", []), ("sq a32", ["--quant=sq", "--act-bits=32"]), ("sq a8", ["--quant=sq", "--act-bits=8"]),
            ("sq a2", ["--quant=sq", "--act-bits=2"])]


def compile_so(sqc, model, flags, out):
    cmd = [sqc, model, "-o", out, "-v"] + flags
    if flags:
        cmd += ["--config", os.path.join(ROOT, "tests", "configs", "sq_tiny.yaml")]
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if p.returncode:
        sys.exit(f"native_speed: {' '.join(cmd)} failed:\n{p.stderr}")
    kernels = [ln.split()[-1] for ln in p.stderr.splitlines() if " kernel " in ln]
    return kernels


class Model:
    def __init__(self, path):
        self.lib = ctypes.CDLL(path)
        name = os.path.basename(path).split(".")[0]
        f = lambda s: getattr(self.lib, f"{name}_{s}")
        for s in ("workspace_size", "input_size", "output_size"):
            f(s).restype = ctypes.c_size_t
        self.run_batch = f("run_batch")
        self.run_batch.argtypes = [ctypes.c_size_t, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p]
        self.nin, self.nout = f("input_size")(), f("output_size")()
        self.ws = ctypes.create_string_buffer(f("workspace_size")() + 64)
        self.wsp = (ctypes.addressof(self.ws) + 63) & ~63

    def __call__(self, x):
        y = np.empty((x.shape[0], self.nout), dtype=np.float32)
        rc = self.run_batch(x.shape[0], x.ctypes.data, y.ctypes.data, self.wsp)
        if rc:
            sys.exit("native_speed: the model failed")
        return y


def timed(fn):
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", default="lenet5,vgg7s")
    ap.add_argument("--images", type=int, default=1000)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--sqc", default=os.path.join(ROOT, "build", "sqc"))
    a = ap.parse_args()
    torch.set_num_threads(1)
    root = os.environ.get("SQC_DATA_ROOT", mm.DEFAULT_DATA_ROOT)
    xu8, _ = mm.load_split(root, "test")
    x = np.ascontiguousarray(mm.normalize(xu8)[:a.images], dtype=np.float32)
    xt = torch.from_numpy(x)
    n = len(x)
    print("command: " + " ".join([sys.executable] + sys.argv))
    print(f"machine: {os.cpu_count()} cores, load average "
          f"{' '.join(f'{v:.2f}' for v in os.getloadavg())}; torch {torch.__version__}, 1 thread")
    with tempfile.TemporaryDirectory() as tmp:
        for name in [m for m in a.models.split(",") if m]:
            onnx_path = os.path.join(ROOT, "models", f"{name}.onnx")
            tm = mm.module_from_onnx(name, onnx_path)
            libs = {}
            for i, (vname, flags) in enumerate(VARIANTS):
                so = os.path.join(tmp, f"{name}_v{i}.so")
                kern = compile_so(a.sqc, onnx_path, flags, so)
                libs[vname] = (Model(so), kern)
            with torch.no_grad():
                want = tm(xt[:16]).numpy()
            got = libs["float"][0](x[:16])
            rel = float(np.max(np.abs(got - want)) / np.max(np.abs(want)))
            if rel > 1e-4:
                sys.exit(f"native_speed: {name}: float .so differs from PyTorch by {rel:.2e}")
            runs = {k: [] for k in list(libs) + ["torch b1", "torch b100"]}

            def torch_b(b):
                with torch.no_grad():
                    for s in range(0, n, b):
                        tm(xt[s:s + b])
            for _ in range(a.rounds):
                for k, (lib, _) in libs.items():
                    runs[k].append(timed(lambda: lib(x)))
                runs["torch b1"].append(timed(lambda: torch_b(1)))
                runs["torch b100"].append(timed(lambda: torch_b(100)))
            med = {k: statistics.median(v) / n * 1e6 for k, v in runs.items()}
            print(f"\n{name}: {n} images, {a.rounds} rounds, medians in us/image "
                  f"(float .so vs PyTorch logits: {rel:.1e} relative)")
            print(f"  {'':12s} {'us/img':>9s} {'/torch b1':>10s} {'/torch b100':>12s}  kernels")
            for k in runs:
                kern = " ".join(libs[k][1]) if k in libs else ""
                print(f"  {k:12s} {med[k]:9.1f} {med[k] / med['torch b1']:10.3f} "
                      f"{med[k] / med['torch b100']:12.3f}  {kern}")


if __name__ == "__main__":
    main()
