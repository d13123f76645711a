#!/usr/bin/env python3
"""bench/qdq_model.py: an int8 QDQ copy of a float CNN, for timing ONNX Runtime's int8 path.

    /usr/bin/python3 bench/qdq_model.py IN.onnx OUT.onnx [--calib N] [--data DIR] [--random]
                                       [--check N]

A bench helper (bench/ort_speed.sh runs it), never part of the build or tests. Needs only
numpy and onnx (Debian: python3-numpy, python3-onnx; onnx 1.12 has no ReferenceEvaluator,
so the forward passes run in the small NumPy interpreter of models/onnx_numpy.py, to which
this script adds QuantizeLinear and DequantizeLinear).

The input is a float model made of Conv, BatchNormalization, Relu, MaxPool, Flatten, Gemm,
Add and GlobalAveragePool (models/lenet5.onnx, models/vgg7s.onnx, the residual network of
bench/resnet_model.py). The output is the standard ONNX QDQ form that ONNX Runtime's graph
optimizer turns into QLinearConv / QGemm (u8 activations x s8 weights, VNNI where the CPU
has it), QLinearAdd and QLinearGlobalAveragePool (com.microsoft), laid out as
onnxruntime.quantization.quantize_static (QuantFormat.QDQ, per_channel=True, MinMax
calibration) lays it out:

- BatchNormalization is folded into the Conv before it (w * g/sqrt(v+eps), (b-m)*g/sqrt(v+eps)+beta).
- A Relu that is the only consumer of a Conv/Gemm/Add output is removed: the QuantizeLinear
  on that output has zero point 0 (uint8), which clamps negatives, i.e. it is the Relu.
- Weights: per-output-channel symmetric int8 (scale max|w[c]|/127, zero point 0), stored as
  int8 initializers feeding DequantizeLinear(axis=0). For Gemm with transB=1 the weight is
  [out, in], so axis 0 is the output channel too.
- Bias: int32 initializer, scale = input activation scale * weight scale[c], zero point 0,
  through DequantizeLinear(axis=0).
- Activations: uint8, one scale/zero point per tensor from min/max calibration (range
  widened to contain 0). Every activation tensor gets a QuantizeLinear -> DequantizeLinear
  pair: the graph input, every Conv/Gemm output (so every Conv/Gemm input and output), and
  the MaxPool/Flatten outputs, which reuse their input's parameters (exact: max and reshape
  keep values on the grid), so ONNX Runtime runs them on uint8 and drops the pairs.
  The graph output (logits) also ends in a Q/DQ pair, so the last Gemm becomes a QGemm.
- Add (a residual sum) reads the DequantizeLinear outputs of its two inputs (the pairs
  those tensors already have as Conv/Add outputs; a tensor that also feeds a Conv shares
  its one DequantizeLinear, which ONNX Runtime duplicates per consumer) and its output gets
  a pair with its own calibrated parameters (zero point 0 when it absorbed a Relu).
  GlobalAveragePool's output gets a pair with its own calibrated parameters too.

Calibration: the float model (BatchNorm folded, Relu kept) runs over N inputs (--calib,
default 256) and the min/max of every activation tensor is recorded. The inputs are N
training images of Fashion-MNIST (DIR/train-images-idx3-ubyte.gz, DIR from --data, else
$SQC_DATA_ROOT, else /usr/share/datasets/fashion-mnist; a seeded random sample) normalized
as the model's YAML config next to IN.onnx says (normalize: scale, mean, std; defaults
1/255, 0.2860, 0.3530). Without the data set, or with --random, the inputs are uniform
random in [-1, 1] ([N, 1, 28, 28], seed 0). The script prints which it used.

--check N (default 0: off) runs the float model and the QDQ model through the NumPy
interpreter (QuantizeLinear rounds half to even and saturates, as ONNX does) on N test
images (or random inputs) and prints the largest |float - int8| logit difference, how
often the argmaxes agree and, with labels, both accuracies. The output model is checked
with onnx.checker (full_check: shape inference too).
"""
import argparse
import collections
import os
import re
import sys

import numpy as np
import onnx
from onnx import helper, numpy_helper

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "models"))
import onnx_numpy  # noqa: E402  (models/onnx_numpy.py: the NumPy interpreter, read_idx)
from onnx_numpy import attrs, read_idx  # noqa: E402

QMIN, QMAX = 0, 255  # uint8 activations
WMAX = 127  # symmetric int8 weights: [-127, 127]


# ---------------------------------------------------------------- NumPy interpreter
# models/onnx_numpy.py runs the float ops; the two below are the QDQ model's.
def per_axis(v, x, axis):
    if v.ndim == 0 or v.size == 1:
        return v.reshape(())
    shape = [1] * x.ndim
    shape[axis] = v.size
    return v.reshape(shape)


def quantize_linear(ins, a):
    s, zp = ins[1], ins[2]
    ax = a.get("axis", 1)
    info = np.iinfo(zp.dtype)
    q = np.rint(ins[0] / per_axis(s, ins[0], ax)) + per_axis(zp, ins[0], ax).astype(np.int64)
    return np.clip(q, info.min, info.max).astype(zp.dtype)


def dequantize_linear(ins, a):
    ax = a.get("axis", 1)
    zp = ins[2] if len(ins) > 2 and ins[2] is not None else np.zeros((), ins[0].dtype)
    return ((ins[0].astype(np.int64) - per_axis(zp, ins[0], ax).astype(np.int64))
            .astype(np.float32) * per_axis(ins[1], ins[0], ax))


QDQ_OPS = {"QuantizeLinear": quantize_linear, "DequantizeLinear": dequantize_linear}


def run(model, x, record=None):
    """Runs the graph on x; returns the outputs, and fills record[name] = (min, max)."""
    def widen(name, y):
        if y.dtype == np.float32:
            lo, hi = float(y.min()), float(y.max())
            if name in record:
                plo, phi = record[name]
                lo, hi = min(lo, plo), max(hi, phi)
            record[name] = (lo, hi)

    try:
        return onnx_numpy.run(model, x, QDQ_OPS, widen if record is not None else None)
    except NotImplementedError as e:
        raise SystemExit(f"qdq_model.py: {e}")


# ---------------------------------------------------------------- graph rewriting
def fold_bn(model):
    """Folds each BatchNormalization into the Conv whose output only it reads."""
    g = model.graph
    inits = {i.name: numpy_helper.to_array(i) for i in g.initializer}
    users = collections.Counter(i for n in g.node for i in n.input)
    prod = {o: n for n in g.node for o in n.output}
    drop = set()
    for n in g.node:
        if n.op_type != "BatchNormalization":
            continue
        c = prod.get(n.input[0])
        if c is None or c.op_type != "Conv" or users[n.input[0]] != 1 or not all(
                i in inits for i in n.input[1:5]):
            raise SystemExit(f"qdq_model.py: cannot fold {n.name or n.output[0]} into a Conv")
        s, b, m, v = (inits[i] for i in n.input[1:5])
        k = (s / np.sqrt(v + attrs(n).get("epsilon", 1e-5))).astype(np.float32)
        data, wname = c.input[0], c.input[1]
        has_b = len(c.input) > 2 and c.input[2]
        bname = c.input[2] if has_b else wname + "_bias"
        w = inits[wname]
        cb = inits[bname] if has_b else np.zeros(w.shape[0], np.float32)
        inits[wname] = (w * k[:, None, None, None]).astype(np.float32)
        inits[bname] = ((cb - m) * k + b).astype(np.float32)
        del c.input[:]
        c.input.extend([data, wname, bname])
        c.output[0] = n.output[0]
        drop.add(id(n))
    keep = [n for n in g.node if id(n) not in drop]
    used = {i for n in keep for i in n.input}
    del g.node[:]
    g.node.extend(keep)
    del g.initializer[:]
    g.initializer.extend(numpy_helper.from_array(v, k) for k, v in inits.items() if k in used)
    return model


def load_folded(path):
    m = onnx.load(path)
    init_names = {i.name for i in m.graph.initializer}
    real = [i for i in m.graph.input if i.name not in init_names]
    del m.graph.input[:]
    m.graph.input.extend(real)
    return fold_bn(m)


def quant_params(lo, hi):
    lo, hi = min(lo, 0.0), max(hi, 0.0)
    scale = (hi - lo) / (QMAX - QMIN) if hi > lo else 1.0
    zp = int(np.clip(round(QMIN - lo / scale), QMIN, QMAX))
    return np.float32(scale), np.uint8(zp)


def make_qdq(folded, ranges):
    """The QDQ model of the folded float model, given each activation tensor's (min, max)."""
    g = folded.graph
    inits = {i.name: numpy_helper.to_array(i) for i in g.initializer}
    users = collections.defaultdict(list)
    for n in g.node:
        for i in n.input:
            users[i].append(n)
    out_names = {o.name for o in g.output}
    nodes = list(g.node)

    # Relu after Conv/Gemm/Add (its only user) -> absorbed into the output's Q (zero point 0)
    removed = set()
    for n in nodes:
        if n.op_type in ("Conv", "Gemm", "Add") and n.output[0] not in out_names:
            us = users[n.output[0]]
            if len(us) == 1 and us[0].op_type == "Relu":
                n.output[0] = us[0].output[0]
                removed.add(id(us[0]))
    nodes = [n for n in nodes if id(n) not in removed]

    new_nodes, new_inits = [], []
    qp = {}  # float tensor name -> (scale name, zp name)
    scale = {}  # scale initializer name -> its value
    deq = {}  # float tensor name -> its DequantizeLinear output

    def add_init(arr, name):
        new_inits.append(numpy_helper.from_array(arr, name))
        return name

    def qdq(t, params=None, src=None):
        """Q -> DQ pair on activation t; params: reuse another tensor's scale/zp names."""
        if params is None:
            lo, hi = ranges[t]
            s, z = quant_params(lo, hi)
            params = (add_init(np.array(s, np.float32), t + "_scale"),
                      add_init(np.array(z, np.uint8), t + "_zero_point"))
            scale[params[0]] = s
        qp[t] = params
        src = src or t
        new_nodes.append(helper.make_node("QuantizeLinear", [src, *params], [t + "_quantized"],
                                          name=t + "_QuantizeLinear"))
        dq_out = t if src != t else t + "_dequantized"
        new_nodes.append(helper.make_node("DequantizeLinear", [t + "_quantized", *params], [dq_out],
                                          name=t + "_DequantizeLinear"))
        deq[t] = dq_out

    def dq_weight(name, w):
        c = w.shape[0]
        amax = np.abs(w.reshape(c, -1)).max(axis=1)
        s = np.where(amax > 0, amax / WMAX, 1.0).astype(np.float32)
        q = np.clip(np.rint(w / s.reshape((c,) + (1,) * (w.ndim - 1))), -WMAX, WMAX).astype(np.int8)
        add_init(q, name + "_quantized")
        add_init(s, name + "_scale")
        add_init(np.zeros(c, np.int8), name + "_zero_point")
        new_nodes.append(helper.make_node(
            "DequantizeLinear", [name + "_quantized", name + "_scale", name + "_zero_point"],
            [name + "_dequantized"], name=name + "_DequantizeLinear", axis=0))
        return s

    def dq_bias(name, b, s_in, s_w):
        s = (np.float32(s_in) * s_w).astype(np.float32)
        q = np.rint(b / s).astype(np.int64)
        if np.abs(q).max(initial=0) > 2**31 - 1:
            raise SystemExit(f"qdq_model.py: bias {name} does not fit int32")
        add_init(q.astype(np.int32), name + "_quantized")
        add_init(s, name + "_scale")
        add_init(np.zeros(len(b), np.int32), name + "_zero_point")
        new_nodes.append(helper.make_node(
            "DequantizeLinear", [name + "_quantized", name + "_scale", name + "_zero_point"],
            [name + "_dequantized"], name=name + "_DequantizeLinear", axis=0))

    x = g.input[0].name
    qdq(x)  # the graph input feeds Q directly; its DQ output is x + "_dequantized"
    for n in nodes:
        op, a = n.op_type, attrs(n)
        data = n.input[0]
        if data not in deq:
            raise SystemExit(f"qdq_model.py: input {data} of {op} is not quantized")
        s_in = scale[qp[data][0]]
        if op in ("Conv", "Gemm"):
            w = inits[n.input[1]]
            if op == "Gemm":
                if a.get("transA", 0) or a.get("alpha", 1.0) != 1.0 or a.get("beta", 1.0) != 1.0:
                    raise SystemExit("qdq_model.py: Gemm with transA/alpha/beta is not supported")
                if not a.get("transB", 0):  # make the weight [out, in] so axis 0 is the channel
                    w = w.T.copy()
                    a["transB"] = 1
            s_w = dq_weight(n.input[1], w)
            ins = [deq[data], n.input[1] + "_dequantized"]
            if len(n.input) > 2 and n.input[2]:
                dq_bias(n.input[2], inits[n.input[2]].reshape(-1), s_in, s_w)
                ins.append(n.input[2] + "_dequantized")
            out = n.output[0]
            pre = out + "_float"
            new_nodes.append(helper.make_node(op, ins, [pre], name=n.name or out, **a))
            qdq(out, src=pre)
        elif op in ("MaxPool", "Flatten"):
            out = n.output[0]
            pre = out + "_float"
            new_nodes.append(helper.make_node(op, [deq[data]], [pre], name=n.name or out, **a))
            qdq(out, params=qp[data], src=pre)
        elif op == "Add":  # DQ, DQ -> Add -> Q: QLinearAdd
            other = n.input[1]
            if other not in deq:
                raise SystemExit(f"qdq_model.py: input {other} of Add is not quantized "
                                 "(only the sum of two activations is supported)")
            out = n.output[0]
            pre = out + "_float"
            new_nodes.append(helper.make_node(op, [deq[data], deq[other]], [pre],
                                              name=n.name or out))
            qdq(out, src=pre)
        elif op == "GlobalAveragePool":  # DQ -> GlobalAveragePool -> Q: QLinearGlobalAveragePool
            out = n.output[0]
            pre = out + "_float"
            new_nodes.append(helper.make_node(op, [deq[data]], [pre], name=n.name or out))
            qdq(out, src=pre)
        elif op == "Relu":  # not after a Conv/Gemm/Add: DQ -> Relu -> Q (ORT fuses it into Q)
            out = n.output[0]
            pre = out + "_float"
            new_nodes.append(helper.make_node(op, [deq[data]], [pre], name=n.name or out))
            qdq(out, src=pre)
        else:
            raise SystemExit(f"qdq_model.py: op {op} is not supported")

    new_inputs = list(g.input)
    graph = helper.make_graph(new_nodes, g.name + "_qdq", new_inputs, list(g.output), new_inits)
    m = helper.make_model(graph, opset_imports=list(folded.opset_import),
                          producer_name="sqc bench/qdq_model.py")
    m.ir_version = folded.ir_version
    return m


# ---------------------------------------------------------------- data
def normalization(model_path):
    scale, mean, std = 1 / 255, 0.2860, 0.3530
    cfg = os.path.splitext(model_path)[0] + ".yaml"
    if os.path.exists(cfg):
        t = open(cfg).read()
        m = re.search(r"normalize:\s*\{\s*scale:\s*([^,]+),\s*mean:\s*\[([^\]]+)\],\s*std:\s*\[([^\]]+)\]", t)
        if m:
            scale, mean, std = float(m.group(1)), float(m.group(2)), float(m.group(3))
    return scale, mean, std


def inputs(split, n, args, rng):
    """(x [n,1,28,28] float32, labels or None, description)."""
    root = args.data or os.environ.get("SQC_DATA_ROOT") or "/usr/share/datasets/fashion-mnist"
    img = os.path.join(root, f"{split}-images-idx3-ubyte.gz")
    lab = os.path.join(root, f"{split}-labels-idx1-ubyte.gz")
    if args.random or not os.path.exists(img):
        why = "--random" if args.random else f"no {img}"
        x = rng.uniform(-1, 1, (n, 1, 28, 28)).astype(np.float32)
        return x, None, f"{n} uniform random inputs in [-1, 1] ({why})"
    scale, mean, std = normalization(args.inp)
    ims = read_idx(img)
    idx = np.sort(rng.choice(len(ims), size=min(n, len(ims)), replace=False))
    x = ((ims[idx].astype(np.float32) * scale - mean) / std)[:, None].astype(np.float32)
    y = read_idx(lab)[idx] if os.path.exists(lab) else None
    return x, y, (f"{len(idx)} Fashion-MNIST {split} images from {root} "
                  f"(x = (p * {scale:.6g} - {mean}) / {std})")


def batched(model, x, record=None, bs=64):
    return np.concatenate([run(model, x[i:i + bs], record)[0] for i in range(0, len(x), bs)])


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("inp", metavar="IN.onnx")
    p.add_argument("out", metavar="OUT.onnx")
    p.add_argument("--calib", type=int, default=256, help="calibration inputs (256)")
    p.add_argument("--data", help="Fashion-MNIST IDX folder")
    p.add_argument("--random", action="store_true", help="calibrate on uniform [-1, 1] noise")
    p.add_argument("--check", type=int, default=0, metavar="N",
                   help="compare float and int8 logits on N test inputs (NumPy)")
    args = p.parse_args()

    folded = load_folded(args.inp)
    x, _, desc = inputs("train", args.calib, args, np.random.default_rng(0))
    ranges = {}
    ranges[folded.graph.input[0].name] = (float(x.min()), float(x.max()))
    batched(folded, x, ranges)
    q = make_qdq(folded, ranges)
    onnx.checker.check_model(q, full_check=True)
    tmp = args.out + ".tmp"
    onnx.save(q, tmp)
    os.replace(tmp, args.out)
    ops = collections.Counter(n.op_type for n in q.graph.node)
    print(f"qdq_model.py: {args.out}: calibrated on {desc}; nodes: "
          + ", ".join(f"{k} {v}" for k, v in sorted(ops.items())), file=sys.stderr)

    if args.check:
        ref = onnx.load(args.inp)
        xc, yc, desc = inputs("t10k", args.check, args, np.random.default_rng(1))
        f, i8 = batched(ref, xc), batched(q, xc)
        agree = float(np.mean(f.argmax(1) == i8.argmax(1)))
        line = (f"qdq_model.py: check on {desc}: max |float - int8| = {np.abs(f - i8).max():.4g} "
                f"(mean {np.abs(f - i8).mean():.3g}) "
                f"(max |float| {np.abs(f).max():.4g}), argmax agreement {agree:.4f}")
        if yc is not None:
            line += (f", accuracy float {np.mean(f.argmax(1) == yc):.4f} "
                     f"int8 {np.mean(i8.argmax(1) == yc):.4f}")
        print(line, file=sys.stderr)


if __name__ == "__main__":
    main()
