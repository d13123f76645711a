#!/usr/bin/python3
"""Fixture maker: small PyTorch-exported ONNX models + input/expected-output pairs.

Run by hand from anywhere:   /usr/bin/python3 tests/models/make_fixtures.py
Outputs are written next to this script and committed; the build never runs Python.

Every model is also re-executed by a tiny NumPy reference interpreter (below) that
follows the ONNX spec, and the script fails if it disagrees with PyTorch.  That
catches exporter/spec semantic mismatches before they become "C compiler bugs".
"""
import collections
import os
import sys

import numpy as np
import onnx
import onnx.numpy_helper
import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
MAX_BYTES = 200 * 1024

ALLOWED_OPS = {
    "Conv", "Gemm", "MatMul", "Add", "Sub", "Mul", "Div", "Relu", "LeakyRelu",
    "PRelu", "Clip", "Sigmoid", "Tanh", "HardSigmoid", "Softmax", "LogSoftmax",
    "MaxPool", "AveragePool", "GlobalAveragePool", "GlobalMaxPool",
    "BatchNormalization", "Flatten", "Reshape", "Transpose", "Concat", "Pad",
    "Squeeze", "Unsqueeze", "Shape", "Gather", "Constant", "Identity", "Dropout",
}


# --------------------------------------------------------------------------- models

def randomize_bn(bn, gen):
    """Non-trivial running stats / affine params so BN folding is really exercised."""
    c = bn.num_features
    with torch.no_grad():
        bn.running_mean.copy_(torch.randn(c, generator=gen) * 0.5)
        bn.running_var.copy_(torch.rand(c, generator=gen) * 1.5 + 0.25)
        bn.weight.copy_(torch.rand(c, generator=gen) + 0.5)
        bn.bias.copy_(torch.randn(c, generator=gen) * 0.2)


class CnnBn(nn.Module):
    def __init__(self, gen):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 8, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(8)
        self.conv2 = nn.Conv2d(8, 8, 3, padding=1)
        self.bn2 = nn.BatchNorm2d(8, eps=1e-3)   # non-default epsilon
        self.pool = nn.MaxPool2d(2)
        self.conv3 = nn.Conv2d(8, 16, 3, stride=2, padding=1)
        self.bn3 = nn.BatchNorm2d(16)
        self.gap = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(16, 10)
        for bn in (self.bn1, self.bn2, self.bn3):
            randomize_bn(bn, gen)

    def forward(self, x):
        a = F.relu(self.bn1(self.conv1(x)))
        b = F.relu(self.bn2(self.conv2(a))) + a          # residual Add
        b = self.pool(b)
        c = F.relu(self.bn3(self.conv3(b)))
        c = self.gap(c)
        c = c.view(c.size(0), -1)                         # Shape/Gather/Unsqueeze/Concat/Reshape
        return self.fc(c)


class LeNetSmall(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, 5)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(256, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)   # 6x12x12
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)   # 16x4x4
        x = torch.flatten(x, 1)
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        return self.fc3(x)


class MiscOps(nn.Module):
    """Input 1x3x10x10, output 1x20 (softmax ++ log_softmax)."""

    def __init__(self, gen):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 6, 3)
        self.leaky = nn.LeakyReLU(0.1)
        self.hsig = nn.Hardsigmoid()
        self.prelu = nn.PReLU(6)
        self.htanh = nn.Hardtanh(-0.5, 0.5)
        self.drop = nn.Dropout(0.3)
        self.zpad = nn.ZeroPad2d(1)
        self.avg = nn.AvgPool2d(3, stride=2, padding=1, count_include_pad=False, ceil_mode=True)
        self.conv2 = nn.Conv2d(18, 8, 1)
        self.w = nn.Parameter(torch.randn(8, 5, generator=gen) * 0.5)
        self.gmp = nn.AdaptiveMaxPool2d(1)
        self.fc = nn.Linear(5 * 7 * 7 + 5, 10)
        with torch.no_grad():
            self.prelu.weight.copy_(torch.rand(6, generator=gen) * 0.5)

    def forward(self, x):
        x = F.pad(x, (1, 1, 1, 1), mode="reflect")                 # Pad reflect, 3x12x12
        a = self.conv1(x)                                           # 6x10x10
        b = torch.sigmoid(a) * torch.tanh(a)
        c = self.leaky(a) - self.hsig(a)
        g = torch.clamp(a, -1.0, 2.0) + self.htanh(a)
        d = self.prelu(a) / (g * g + 1.0)
        h = torch.cat([b, c, d], dim=1)                             # 18x10x10
        h = self.drop(h)
        h = self.zpad(h)                                            # Pad constant, 18x12x12
        h = self.avg(h)                                             # 18x7x7: ceil_mode adds a 7th window
        #   starting at 11 (only 1 real element -> divisor 1 with count_include_pad=False)
        h = self.conv2(h).transpose(2, 3)                           # 8x7x7
        h = h.permute(0, 2, 3, 1)                                   # 1x7x7x8
        h = torch.matmul(h, self.w)                                 # MatMul -> 1x7x7x5
        h = h.permute(0, 3, 1, 2)                                   # 1x5x7x7
        h = h.unsqueeze(1).squeeze(1)                               # Unsqueeze + Squeeze
        m = torch.flatten(self.gmp(h), 1)                           # exported as MaxPool 7x7 -> 1x5
        f = torch.cat([torch.flatten(h, 1), m], dim=1)              # 1x250
        y = self.fc(f)                                              # Gemm -> 1x10
        return torch.cat([F.softmax(y, dim=1), F.log_softmax(y, dim=1)], dim=1)


# ------------------------------------------------------------ numpy reference interpreter

def _attrs(node):
    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


def _pool_out(n, k, s, pb, pe, d, ceil):
    span = n + pb + pe - ((k - 1) * d + 1)
    o = (-(-span // s) if ceil else span // s) + 1
    # ONNX/PyTorch rule: last window must start inside the input or the begin padding
    if ceil and (o - 1) * s >= n + pb:
        o -= 1
    return o


def _pool(x, at, mode, count_include_pad=0):
    k = at["kernel_shape"]
    nd = len(k)
    s = at.get("strides", [1] * nd)
    d = at.get("dilations", [1] * nd)
    p = at.get("pads", [0] * (2 * nd))
    ceil = at.get("ceil_mode", 0)
    assert at.get("auto_pad", b"NOTSET") in (b"NOTSET", "NOTSET")
    N, C = x.shape[:2]
    sp = x.shape[2:]
    outs = [_pool_out(sp[i], k[i], s[i], p[i], p[i + nd], d[i], ceil) for i in range(nd)]
    y = np.zeros((N, C) + tuple(outs), np.float64)
    for idx in np.ndindex(*outs):
        sl = []
        cnt_pad = 1
        for i in range(nd):
            start = idx[i] * s[i] - p[i]
            pos = start + np.arange(k[i]) * d[i]
            # positions inside input+pads (for count_include_pad), clipped to real input
            inpad = pos[pos < sp[i] + p[i + nd]]
            cnt_pad *= len(inpad)
            sl.append(pos[(pos >= 0) & (pos < sp[i])])
        win = x[(slice(None), slice(None)) + np.ix_(*sl)] if nd else x
        win = win.reshape(N, C, -1)
        if mode == "max":
            y[(slice(None), slice(None)) + idx] = win.max(-1)
        else:
            div = cnt_pad if count_include_pad else win.shape[-1]
            y[(slice(None), slice(None)) + idx] = win.sum(-1) / div
    return y


def _conv(x, w, b, at):
    nd = w.ndim - 2
    assert nd == 2
    s = at.get("strides", [1] * nd)
    d = at.get("dilations", [1] * nd)
    p = at.get("pads", [0] * (2 * nd))
    grp = at.get("group", 1)
    if "kernel_shape" in at:
        assert list(at["kernel_shape"]) == list(w.shape[2:])
    x = np.pad(x, ((0, 0), (0, 0), (p[0], p[2]), (p[1], p[3])))
    N, C, H, W = x.shape
    M, Cg, KH, KW = w.shape
    OH = (H - (KH - 1) * d[0] - 1) // s[0] + 1
    OW = (W - (KW - 1) * d[1] - 1) // s[1] + 1
    y = np.zeros((N, M, OH, OW), np.float64)
    mg = M // grp
    for g in range(grp):
        xg = x[:, g * Cg:(g + 1) * Cg]
        wg = w[g * mg:(g + 1) * mg]
        for i in range(KH):
            for j in range(KW):
                patch = xg[:, :, i * d[0]: i * d[0] + s[0] * (OH - 1) + 1: s[0],
                           j * d[1]: j * d[1] + s[1] * (OW - 1) + 1: s[1]]
                y[:, g * mg:(g + 1) * mg] += np.einsum("nchw,mc->nmhw", patch, wg[:, :, i, j])
    if b is not None:
        y += b.reshape(1, -1, 1, 1)
    return y


def _softmax_like(x, at, opset, log):
    if opset >= 13:
        ax = at.get("axis", -1)
        m = x - x.max(axis=ax, keepdims=True)
        lse = np.log(np.exp(m).sum(axis=ax, keepdims=True))
        return m - lse if log else np.exp(m - lse)
    ax = at.get("axis", 1) % x.ndim
    shp = x.shape
    x2 = x.reshape(int(np.prod(shp[:ax])), -1)
    return _softmax_like(x2, {"axis": 1}, 13, log).reshape(shp)


def run_reference(model, feeds):
    """Evaluate a (small, float) ONNX model with NumPy in float64."""
    g = model.graph
    opset = [o.version for o in model.opset_import if o.domain in ("", "ai.onnx")][0]
    env = {}
    for init in g.initializer:
        a = onnx.numpy_helper.to_array(init)
        env[init.name] = a.astype(np.float64) if a.dtype.kind == "f" else a
    for k, v in feeds.items():
        env[k] = v.astype(np.float64)
    for node in g.node:
        at = _attrs(node)
        ins = [env[n] if n else None for n in node.input]
        t = node.op_type
        if t == "Constant":
            a = onnx.numpy_helper.to_array(at["value"])
            r = a.astype(np.float64) if a.dtype.kind == "f" else a
        elif t == "Conv":
            r = _conv(ins[0], ins[1], ins[2] if len(ins) > 2 else None, at)
        elif t == "Gemm":
            a, b = ins[0], ins[1]
            if at.get("transA", 0):
                a = a.T
            if at.get("transB", 0):
                b = b.T
            r = at.get("alpha", 1.0) * (a @ b)
            if len(ins) > 2 and ins[2] is not None:
                r = r + at.get("beta", 1.0) * ins[2]
        elif t == "MatMul":
            r = np.matmul(ins[0], ins[1])
        elif t in ("Add", "Sub", "Mul", "Div"):
            r = {"Add": np.add, "Sub": np.subtract, "Mul": np.multiply, "Div": np.divide}[t](ins[0], ins[1])
        elif t == "Relu":
            r = np.maximum(ins[0], 0)
        elif t == "LeakyRelu":
            r = np.where(ins[0] >= 0, ins[0], at.get("alpha", 0.01) * ins[0])
        elif t == "PRelu":
            r = np.where(ins[0] >= 0, ins[0], ins[1] * ins[0])
        elif t == "Clip":
            lo = ins[1] if len(ins) > 1 and ins[1] is not None else at.get("min", -np.inf)
            hi = ins[2] if len(ins) > 2 and ins[2] is not None else at.get("max", np.inf)
            r = np.minimum(np.maximum(ins[0], lo), hi)
        elif t == "Sigmoid":
            r = 1.0 / (1.0 + np.exp(-ins[0]))
        elif t == "Tanh":
            r = np.tanh(ins[0])
        elif t == "HardSigmoid":
            r = np.clip(at.get("alpha", 0.2) * ins[0] + at.get("beta", 0.5), 0, 1)
        elif t == "Softmax":
            r = _softmax_like(ins[0], at, opset, False)
        elif t == "LogSoftmax":
            r = _softmax_like(ins[0], at, opset, True)
        elif t == "MaxPool":
            assert len(node.output) == 1 and at.get("storage_order", 0) == 0
            r = _pool(ins[0], at, "max")
        elif t == "AveragePool":
            r = _pool(ins[0], at, "avg", at.get("count_include_pad", 0))
        elif t == "GlobalAveragePool":
            r = ins[0].mean(axis=tuple(range(2, ins[0].ndim)), keepdims=True)
        elif t == "GlobalMaxPool":
            r = ins[0].max(axis=tuple(range(2, ins[0].ndim)), keepdims=True)
        elif t == "BatchNormalization":
            x, sc, bi, mu, var = ins
            assert len(node.output) == 1
            sh = (1, -1) + (1,) * (x.ndim - 2)
            r = (x - mu.reshape(sh)) / np.sqrt(var.reshape(sh) + at.get("epsilon", 1e-5)) \
                * sc.reshape(sh) + bi.reshape(sh)
        elif t == "Flatten":
            ax = at.get("axis", 1) % (ins[0].ndim + 1) if ins[0].ndim else 0
            r = ins[0].reshape(int(np.prod(ins[0].shape[:ax])), -1)
        elif t == "Reshape":
            shp = [int(v) for v in ins[1]]
            shp = [ins[0].shape[i] if (v == 0 and not at.get("allowzero", 0)) else v
                   for i, v in enumerate(shp)]
            r = ins[0].reshape(shp)
        elif t == "Transpose":
            r = np.transpose(ins[0], at.get("perm"))
        elif t == "Concat":
            r = np.concatenate(ins, axis=at["axis"])
        elif t == "Pad":
            x = ins[0]
            if opset >= 11:
                pads = [int(v) for v in ins[1]]
                cval = float(ins[2]) if len(ins) > 2 and ins[2] is not None else 0.0
            else:
                pads, cval = at["pads"], at.get("value", 0.0)
            mode = at.get("mode", b"constant")
            mode = mode.decode() if isinstance(mode, bytes) else mode
            nd = x.ndim
            pw = [(pads[i], pads[i + nd]) for i in range(nd)]
            assert min(pads) >= 0
            if mode == "constant":
                r = np.pad(x, pw, constant_values=cval)
            else:
                r = np.pad(x, pw, mode={"reflect": "reflect", "edge": "edge"}[mode])
        elif t in ("Squeeze", "Unsqueeze"):
            axes = at.get("axes") if opset < 13 else (
                [int(v) for v in ins[1]] if len(ins) > 1 and ins[1] is not None else None)
            x = ins[0]
            if t == "Squeeze":
                r = np.squeeze(x) if axes is None else np.squeeze(x, tuple(a % x.ndim for a in axes))
            else:
                rank = x.ndim + len(axes)
                r = x
                for a in sorted(a % rank for a in axes):
                    r = np.expand_dims(r, a)
        elif t == "Shape":
            r = np.array(ins[0].shape, np.int64)
        elif t == "Gather":
            r = np.take(ins[0], ins[1].astype(np.int64), axis=at.get("axis", 0))
        elif t in ("Identity", "Dropout"):
            r = ins[0]
        else:
            raise NotImplementedError(t)
        env[node.output[0]] = r
    return [env[o.name] for o in g.output]


# ------------------------------------------------------------- exporter workaround

def _static_pad(g, input, pad, mode, value):
    """Pad with a constant int64 `pads` tensor (ONNX order), nothing else.

    torch 1.13's own opset>=11 symbolic builds `pads` at run time with
    ConstantOfShape/Cast/Slice(step=-1), and its constant folder cannot fold a
    negative-step Slice, so those ops would remain in the file.  For static pads
    this emits the graph a better exporter would: Pad(x, Constant pads[, value]).
    """
    from torch.onnx import symbolic_helper as sh
    pad = sh._parse_arg(pad, "is")
    rank = sh._get_tensor_rank(input)
    assert rank is not None and len(pad) % 2 == 0
    begins = [0] * rank
    ends = [0] * rank
    for i in range(len(pad) // 2):          # PyTorch order: last dim first
        begins[rank - 1 - i] = pad[2 * i]
        ends[rank - 1 - i] = pad[2 * i + 1]
    pads = g.op("Constant", value_t=torch.tensor(begins + ends, dtype=torch.int64))
    if mode == "constant":
        v = 0.0 if value is None or sh._is_none(value) else sh._parse_arg(value, "f")
        cval = g.op("Constant", value_t=torch.tensor(v, dtype=torch.float32))
        return g.op("Pad", input, pads, cval, mode_s="constant")
    return g.op("Pad", input, pads, mode_s={"reflect": "reflect", "replicate": "edge"}[mode])


def register_pad_symbolics():
    reg = torch.onnx.register_custom_op_symbolic
    for opset in (11, 13):
        reg("aten::pad", lambda g, x, p, mode, v: _static_pad(
            g, x, p, sh_mode(mode), v), opset)
        reg("aten::constant_pad_nd", lambda g, x, p, v=None: _static_pad(g, x, p, "constant", v), opset)
        reg("aten::reflection_pad2d", lambda g, x, p: _static_pad(g, x, p, "reflect", None), opset)
        reg("aten::replication_pad2d", lambda g, x, p: _static_pad(g, x, p, "replicate", None), opset)


def sh_mode(mode):
    from torch.onnx import symbolic_helper as sh
    return sh._parse_arg(mode, "s")


# --------------------------------------------------------------------------- driver

def histogram(model):
    return collections.Counter(n.op_type for n in model.graph.node)


def export(model, x, name, opset, shape_inference=True, **kw):
    path = os.path.join(HERE, name + ".onnx")
    if shape_inference:
        torch.onnx.export(model, (x,), path, opset_version=opset,
                          input_names=["input"], output_names=["output"], **kw)
    else:
        # The public API always runs the exporter's ONNX shape inference, which
        # replaces Shape->Gather of a static dim by a Constant even with
        # do_constant_folding=False.  torch 1.13's internal _export lets us turn
        # it off so the Shape/Gather/Unsqueeze/Concat->Reshape chain survives.
        torch.onnx.utils._export(model, (x,), path, opset_version=opset,
                                 input_names=["input"], output_names=["output"],
                                 onnx_shape_inference=False, **kw)
    m = onnx.load(path)
    onnx.checker.check_model(m)
    hist = histogram(m)
    bad = set(hist) - ALLOWED_OPS
    if bad:
        sys.exit(f"{name}: op types outside the allowed set: {sorted(bad)}")
    print(f"{name}.onnx  opset {opset}  {os.path.getsize(path)} bytes")
    print("    " + ", ".join(f"{k}:{v}" for k, v in sorted(hist.items())))
    return m


def save_pair(model, m, x, name):
    with torch.no_grad():
        y = model(x)
    xn = np.ascontiguousarray(x.numpy().astype(np.float32))
    yn = np.ascontiguousarray(y.numpy().astype(np.float32))
    np.save(os.path.join(HERE, name + ".in.npy"), xn)
    np.save(os.path.join(HERE, name + ".out.npy"), yn)
    ref = run_reference(m, {"input": xn})[0]
    err = float(np.max(np.abs(ref - yn)))
    scale = float(np.max(np.abs(yn)))
    print(f"    in {xn.shape}  out {yn.shape}  |out|max={scale:.4g}  ref-vs-torch maxabs={err:.3g}")
    if err > 1e-4 * max(1.0, scale):
        sys.exit(f"{name}: NumPy reference disagrees with PyTorch (max abs err {err})")


def main():
    torch.manual_seed(0)
    np.random.seed(0)
    preserve = torch.onnx.TrainingMode.PRESERVE

    # a) cnn_bn.  training=PRESERVE (model is in eval mode) skips the exporter's
    #    eval-mode Conv+BN fusion so BatchNormalization nodes stay in the file.
    gen = torch.Generator().manual_seed(1)
    torch.manual_seed(1)
    cnn = CnnBn(gen).eval()
    x = torch.randn(1, 1, 28, 28, generator=gen)
    for opset in (11, 13):
        name = f"cnn_bn_op{opset}"
        m = export(cnn, x, name, opset, shape_inference=False,
                   do_constant_folding=False, training=preserve)
        h = histogram(m)
        if opset == 11 and not (h["Shape"] and h["Gather"]):
            sys.exit("cnn_bn_op11: expected Shape and Gather nodes")
        if not h["BatchNormalization"] == 3:
            sys.exit(f"{name}: expected 3 BatchNormalization nodes")
        save_pair(cnn, m, x, name)
    x2 = torch.randn(2, 1, 28, 28, generator=gen)
    m = export(cnn, x2, "cnn_bn_dyn", 13, shape_inference=False,
               do_constant_folding=False, training=preserve,
               dynamic_axes={"input": {0: "N"}, "output": {0: "N"}})
    save_pair(cnn, m, x2, "cnn_bn_dyn")

    # b) lenet_small, default export settings.
    gen = torch.Generator().manual_seed(2)
    torch.manual_seed(2)
    lenet = LeNetSmall().eval()
    x = torch.randn(1, 1, 28, 28, generator=gen)
    m = export(lenet, x, "lenet_small", 13)
    save_pair(lenet, m, x, "lenet_small")

    # c) misc_ops, opset 11 and 13.
    register_pad_symbolics()
    gen = torch.Generator().manual_seed(3)
    torch.manual_seed(3)
    misc = MiscOps(gen).eval()
    x = torch.randn(1, 3, 10, 10, generator=gen)
    for opset in (11, 13):
        name = f"misc_ops_op{opset}"
        m = export(misc, x, name, opset)
        save_pair(misc, m, x, name)

    for f in sorted(os.listdir(HERE)):
        if f.endswith((".onnx", ".npy")):
            sz = os.path.getsize(os.path.join(HERE, f))
            if sz > MAX_BYTES:
                sys.exit(f"{f}: {sz} bytes > {MAX_BYTES}")


if __name__ == "__main__":
    main()
