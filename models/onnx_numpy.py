"""models/onnx_numpy.py: a small NumPy interpreter of float ONNX graphs, and an IDX reader.

Shared by models/make_models.py (re-evaluates the exported fixtures) and bench/qdq_model.py
(calibrates and checks its int8 QDQ copies, adding QuantizeLinear/DequantizeLinear through
run's extra_ops). Needs only numpy and onnx: Debian's onnx 1.12 has no ReferenceEvaluator.

Ops: Conv, BatchNormalization, Relu, MaxPool, Flatten, Reshape, Gemm, Add (NumPy
broadcasting, which is ONNX's multidirectional broadcasting), GlobalAveragePool (mean over
the spatial axes, kept as size-1 axes), and the shape plumbing PyTorch's exporter emits
(Shape, Gather, Unsqueeze, Concat, Constant, Identity, Dropout). Anything else raises
NotImplementedError.
"""
import gzip

import numpy as np
import onnx
import onnx.helper
import onnx.numpy_helper


def attrs(node):
    """The node's attributes as {name: Python value}."""
    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


def conv(x, w, b, a):
    """2-D Conv (NCHW, group 1, explicit pads): windows of x contracted with w by einsum."""
    if a.get("group", 1) != 1:
        raise NotImplementedError("grouped Conv is not supported")
    if a.get("auto_pad", b"NOTSET") not in (b"NOTSET", "NOTSET"):
        raise NotImplementedError("Conv auto_pad is not supported")
    kh, kw = w.shape[2:]
    sh, sw = a.get("strides", [1, 1])
    dh, dw = a.get("dilations", [1, 1])
    pt, pl, pb, pr = a.get("pads", [0, 0, 0, 0])
    x = np.pad(x, ((0, 0), (0, 0), (pt, pb), (pl, pr)))
    ekh, ekw = (kh - 1) * dh + 1, (kw - 1) * dw + 1
    win = np.lib.stride_tricks.sliding_window_view(x, (ekh, ekw), axis=(2, 3))
    win = win[:, :, ::sh, ::sw, ::dh, ::dw]  # N C Ho Wo kh kw
    y = np.einsum("nchwij,mcij->nmhw", win, w, optimize=True)
    if b is not None:
        y = y + b[None, :, None, None]
    return y.astype(np.float32)


def maxpool(x, a):
    if a.get("ceil_mode", 0) or any(d != 1 for d in a.get("dilations", [1, 1])):
        raise NotImplementedError("MaxPool ceil_mode/dilations are not supported")
    kh, kw = a["kernel_shape"]
    sh, sw = a.get("strides", [1, 1])
    pt, pl, pb, pr = a.get("pads", [0, 0, 0, 0])
    x = np.pad(x, ((0, 0), (0, 0), (pt, pb), (pl, pr)), constant_values=-np.inf)
    win = np.lib.stride_tricks.sliding_window_view(x, (kh, kw), axis=(2, 3))[:, :, ::sh, ::sw]
    return win.max(axis=(4, 5))


def eval_node(op, ins, a):
    """The (first) output of one node of type op, given its inputs (None for an omitted
    optional input) and attributes."""
    if op == "Conv":
        return conv(ins[0], ins[1], ins[2] if len(ins) > 2 else None, a)
    if op == "BatchNormalization":
        xx, s, bb, mean, var = ins
        k = s / np.sqrt(var + a.get("epsilon", 1e-5))
        sh = (1, -1, 1, 1)
        return (xx - mean.reshape(sh)) * k.reshape(sh) + bb.reshape(sh)
    if op == "Relu":
        return np.maximum(ins[0], 0)
    if op == "MaxPool":
        return maxpool(ins[0], a)
    if op == "Flatten":
        ax = a.get("axis", 1)
        return ins[0].reshape(int(np.prod(ins[0].shape[:ax])), -1)
    if op == "Reshape":
        shape = [d if d != 0 else ins[0].shape[i] for i, d in enumerate(ins[1])]
        return ins[0].reshape(shape)
    if op == "Gemm":
        A, B = ins[0], ins[1]
        if a.get("transA", 0):
            A = A.T
        if a.get("transB", 0):
            B = B.T
        y = np.float32(a.get("alpha", 1.0)) * (A @ B)
        if len(ins) > 2 and ins[2] is not None:
            y = y + np.float32(a.get("beta", 1.0)) * ins[2]
        return y
    if op == "Add":
        return ins[0] + ins[1]
    if op == "GlobalAveragePool":
        return ins[0].mean(axis=tuple(range(2, ins[0].ndim)), keepdims=True)
    if op == "Shape":
        return np.array(ins[0].shape, dtype=np.int64)
    if op == "Gather":
        return np.take(ins[0], ins[1], axis=a.get("axis", 0))
    if op == "Unsqueeze":
        return np.expand_dims(ins[0], tuple(int(v) for v in ins[1]))
    if op == "Concat":
        return np.concatenate(ins, axis=a["axis"])
    if op == "Constant":
        return onnx.numpy_helper.to_array(a["value"])
    if op in ("Identity", "Dropout"):
        return ins[0]
    raise NotImplementedError(f"op {op} is not supported")


def run(model, x, extra_ops=None, on_output=None):
    """Runs model's graph on x (its first input); returns the list of its outputs.

    extra_ops: {op_type: f(ins, attrs) -> array}, for ops eval_node does not know (it is
    consulted first). on_output(name, y): called with each node's output as it is computed.
    Float64 results are stored as float32.
    """
    env = {t.name: onnx.numpy_helper.to_array(t) for t in model.graph.initializer}
    env[model.graph.input[0].name] = x
    extra_ops = extra_ops or {}
    for node in model.graph.node:
        a = attrs(node)
        ins = [env[i] if i else None for i in node.input]
        f = extra_ops.get(node.op_type)
        y = np.asarray(f(ins, a) if f else eval_node(node.op_type, ins, a))
        if y.dtype == np.float64:
            y = y.astype(np.float32)
        env[node.output[0]] = y
        if on_output is not None:
            on_output(node.output[0], y)
    return [env[o.name] for o in model.graph.output]


def read_idx(path):
    """Read a (gzip-compressed or raw) IDX file into a numpy array."""
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        buf = f.read()
    if len(buf) < 4 or buf[0] != 0 or buf[1] != 0:
        raise ValueError(f"{path}: not an IDX file")
    if buf[2] != 0x08:
        raise ValueError(f"{path}: IDX element type 0x{buf[2]:02x}, expected ubyte (0x08)")
    ndim = buf[3]
    dims = [int.from_bytes(buf[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    off = 4 + 4 * ndim
    count = int(np.prod(dims))
    if len(buf) - off != count:
        raise ValueError(f"{path}: {len(buf) - off} data bytes, header says {count}")
    return np.frombuffer(buf, dtype=np.uint8, offset=off).reshape(dims)
