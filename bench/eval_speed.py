#!/usr/bin/python3
"""Evaluation speed on the 10k Fashion-MNIST test images: sqc's interpreter vs PyTorch.

    /usr/bin/python3 bench/eval_speed.py [--models lenet5,vgg7s] [--threads 2] [--batch 100]
                                         [--rounds 5] [--sqc build/sqc]

For each model it rebuilds the PyTorch module (the class in models/make_models.py), loads
the weights from the .onnx initializers (names are the module's state_dict keys; nothing is
folded: BatchNorm runs in eval mode), checks on a few test images that PyTorch's logits
equal `sqc run`'s within 1e-4 relative (so both compute the same model), then times the
evaluation of the whole test split R times, alternating the two (A B, B A, A B, ...):

  pytorch  the forward passes and the argmax over the test split in batches of B, in this
           process, under torch.no_grad() with torch.set_num_threads(T) (the data is loaded
           and normalized once, outside the timing; one untimed warm-up batch first);
  sqc      the wall time of `sqc eval MODEL --config YAML --batch B` with
           OPENBLAS_NUM_THREADS=T and OMP_NUM_THREADS=T: the whole command, so it also
           includes reading the model, the pipeline and loading the data set (the wall
           time of a one-batch run, --limit B, is printed too).

It prints each run, the medians and the ratio of the medians sqc/pytorch (< 1: sqc is
faster), and the CPU time (user + system over all threads) of each side, which a loaded
machine disturbs less than the wall time (PyTorch's OpenMP threads spin while they wait for
each other; sqc's threads sleep). OPENBLAS_CORETYPE is
left as the environment has it (see bench/README.md). Python is Debian's (torch, onnx,
numpy); this is a benchmark, not a test.
"""
import argparse
import os
import platform
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CHECK_RTOL = 1e-4
# The line `sqc eval -v` may print on stderr after its loop: "LABEL: N images in X s ..."
LOOP_RE = re.compile(r"^[^\n]*?\b\d+ images in ([0-9.]+) s", re.M)


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--models", default="lenet5,vgg7s",
                    help="comma-separated fixture names (default: lenet5,vgg7s)")
    ap.add_argument("--onnx", action="append", default=[], metavar="NAME=PATH",
                    help="model file for NAME (default: models/NAME.onnx)")
    ap.add_argument("--config", action="append", default=[], metavar="NAME=PATH",
                    help="sqc config for NAME (default: models/NAME.yaml)")
    ap.add_argument("--threads", type=int, default=2, help="threads for both (default 2)")
    ap.add_argument("--batch", type=int, default=100, help="batch size for both (default 100)")
    ap.add_argument("--rounds", type=int, default=5, help="timed runs of each (default 5)")
    ap.add_argument("--check", type=int, default=8, help="images in the logits check (default 8)")
    ap.add_argument("--sqc", default=os.path.join(ROOT, "build", "sqc"), help="the sqc binary")
    ap.add_argument("--data-root", default=None,
                    help="Fashion-MNIST folder for PyTorch (default: make_models.py's)")
    return ap.parse_args()


def name_map(items, what):
    out = {}
    for it in items:
        if "=" not in it:
            sys.exit(f"eval_speed: --{what} wants NAME=PATH, got {it!r}")
        k, v = it.split("=", 1)
        out[k] = v
    return out


args = parse_args()
# Both sides get the same thread settings; set before torch/numpy load their BLAS.
os.environ["OPENBLAS_NUM_THREADS"] = str(args.threads)
os.environ["OMP_NUM_THREADS"] = str(args.threads)

import ctypes  # noqa: E402
import numpy as np  # noqa: E402
import onnx  # noqa: E402
import onnx.numpy_helper  # noqa: E402
import torch  # noqa: E402

sys.path.insert(0, os.path.join(ROOT, "models"))
import make_models as mm  # noqa: E402


def openblas_core():
    try:
        lib = ctypes.CDLL("libopenblas.so.0")
        lib.openblas_get_corename.restype = ctypes.c_char_p
        return lib.openblas_get_corename().decode()
    except (OSError, AttributeError):
        return "?"


def torch_model(name, onnx_path):
    return mm.module_from_onnx(name, onnx_path)


def child_cpu():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def run(cmd, env):
    """Wall time, CPU time (user + system, all threads) and stdout of a command."""
    c = child_cpu()
    t = time.perf_counter()
    p = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    dt = time.perf_counter() - t
    if p.returncode:
        sys.exit(f"eval_speed: {' '.join(cmd)} failed ({p.returncode}):\n{p.stderr}")
    return dt, child_cpu() - c, p.stdout + p.stderr


def check_logits(name, model, onnx_path, x, sqc, env):
    """max |sqc - torch| / max |torch| over the logits of a few images."""
    with tempfile.TemporaryDirectory() as tmp:
        inp, out = os.path.join(tmp, "in.npy"), os.path.join(tmp, "out.npy")
        np.save(inp, np.ascontiguousarray(x, dtype=np.float32))
        run([sqc, "run", onnx_path, "--input", inp, "-o", out], env)
        got = np.load(out)
    with torch.no_grad():
        want = model(torch.from_numpy(x)).numpy()
    if got.shape != want.shape:
        sys.exit(f"eval_speed: {name}: sqc run gives shape {got.shape}, PyTorch {want.shape}")
    rel = float(np.max(np.abs(got - want)) / max(float(np.max(np.abs(want))), 1e-30))
    return rel


def torch_eval(model, x, y, batch):
    """Wall time, CPU time (this process, all threads) and the number of correct labels."""
    c = time.process_time()
    t = time.perf_counter()
    correct = 0
    with torch.no_grad():
        for i in range(0, len(y), batch):
            out = model(x[i:i + batch])
            correct += int((out.argmax(1) == y[i:i + batch]).sum())
    return time.perf_counter() - t, time.process_time() - c, correct


def fmt_runs(ts):
    return " ".join(f"{t:.2f}" for t in ts)


def main():
    onnx_paths = name_map(args.onnx, "onnx")
    configs = name_map(args.config, "config")
    names = [n for n in args.models.split(",") if n]
    for n in names:
        if n not in mm.RECIPES:
            sys.exit(f"eval_speed: unknown model {n!r} (known: {', '.join(mm.RECIPES)})")
    if not os.access(args.sqc, os.X_OK):
        sys.exit(f"eval_speed: {args.sqc}: not an executable (build sqc, or give --sqc)")
    torch.set_num_threads(args.threads)
    env = dict(os.environ)

    root = args.data_root or os.environ.get("SQC_DATA_ROOT", mm.DEFAULT_DATA_ROOT)
    xu8, yte = mm.load_split(root, "test")
    x = torch.from_numpy(mm.normalize(xu8))
    y = torch.from_numpy(yte)

    print("command: " + " ".join([sys.executable] + sys.argv))
    print(f"machine: {os.cpu_count()} cores, load average "
          f"{' '.join(f'{v:.2f}' for v in os.getloadavg())} (at start); torch "
          f"{torch.__version__} ({torch.get_num_threads()} threads); OpenBLAS core "
          f"{openblas_core()}; OPENBLAS_CORETYPE "
          f"{os.environ.get('OPENBLAS_CORETYPE', 'unset')}; {platform.processor() or '?'}")
    print(f"settings: threads T={args.threads}, batch B={args.batch}, rounds R={args.rounds}, "
          f"{len(y)} test images")
    results = []
    for name in names:
        onnx_path = onnx_paths.get(name, os.path.join(ROOT, "models", name + ".onnx"))
        cfg = configs.get(name, os.path.join(ROOT, "models", name + ".yaml"))
        for f in (onnx_path, cfg):
            if not os.path.exists(f):
                sys.exit(f"eval_speed: {name}: {f} does not exist (give --onnx/--config)")
        model = torch_model(name, onnx_path)
        rel = check_logits(name, model, onnx_path, x[:args.check].numpy(), args.sqc, env)
        ok = rel <= CHECK_RTOL
        print(f"{name}: logits check on {args.check} images: max|sqc-torch|/max|torch| = "
              f"{rel:.2e} ({'ok' if ok else 'FAILED'}, limit {CHECK_RTOL:g})")
        if not ok:
            sys.exit(1)

        cmd = [args.sqc, "eval", onnx_path, "--config", cfg, "--batch", str(args.batch), "-v"]
        print(f"{name}: sqc command: OPENBLAS_NUM_THREADS={args.threads} "
              f"OMP_NUM_THREADS={args.threads} {' '.join(cmd)}")
        # Warm-up, untimed: the page cache for sqc, oneDNN's kernels for PyTorch.
        run(cmd + ["--limit", str(args.batch)], env)
        torch_eval(model, x[:args.batch], y[:args.batch], args.batch)

        t_torch, t_sqc, t_fixed, c_torch, c_sqc, l_sqc = [], [], [], [], [], []
        acc_torch = acc_sqc = None
        for r in range(args.rounds):
            order = ("torch", "sqc") if r % 2 == 0 else ("sqc", "torch")
            for who in order:
                if who == "torch":
                    dt, cpu, correct = torch_eval(model, x, y, args.batch)
                    t_torch.append(dt)
                    c_torch.append(cpu)
                    acc_torch = correct / len(y)
                else:
                    dt, cpu, out = run(cmd, env)
                    t_sqc.append(dt)
                    c_sqc.append(cpu)
                    acc_sqc = next((ln for ln in out.splitlines()
                                    if ln.startswith("accuracy:")), "?")
                    m = LOOP_RE.search(out)
                    if m:
                        l_sqc.append(float(m.group(1)))
            dt, _, _ = run(cmd + ["--limit", str(args.batch)], env)
            t_fixed.append(dt)
        mt, ms, mf = (statistics.median(t) for t in (t_torch, t_sqc, t_fixed))
        print(f"{name}: pytorch runs [s]: {fmt_runs(t_torch)}  median {mt:.3f} s, min "
              f"{min(t_torch):.3f} s; CPU time median {statistics.median(c_torch):.3f} s  "
              f"(accuracy {acc_torch:.4f})")
        print(f"{name}: sqc     runs [s]: {fmt_runs(t_sqc)}  median {ms:.3f} s, min "
              f"{min(t_sqc):.3f} s; CPU time median {statistics.median(c_sqc):.3f} s  "
              f"({acc_sqc})")
        if l_sqc:
            print(f"{name}: sqc's own eval loop (its -v line) [s]: {fmt_runs(l_sqc)}  median "
                  f"{statistics.median(l_sqc):.3f} s")
        print(f"{name}: sqc one-batch run (--limit {args.batch}: start, model, pipeline, "
              f"{args.batch} images read, 1 batch): median {mf:.3f} s")
        print(f"{name}: ratio sqc/pytorch = {ms / mt:.3f}  "
              f"({'sqc faster' if ms < mt else 'pytorch faster'})")
        sys.stdout.flush()
        results.append((name, mt, ms, ms / mt))
    print(f"load average at end: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    print("summary (T=%d, B=%d, R=%d): " % (args.threads, args.batch, args.rounds) +
          "; ".join(f"{n} pytorch {mt:.2f} s, sqc {ms:.2f} s, ratio {q:.3f}"
                    for n, mt, ms, q in results))


if __name__ == "__main__":
    main()
