#!/usr/bin/env python3
"""bench/resnet_model.py: a small residual network (ResNet-8-like) as ONNX, random weights.

    /usr/bin/python3 bench/resnet_model.py OUT.onnx [--seed S] [--check N]

A bench helper (bench/ort_speed.sh runs it for MODELS=resnet), never part of the build or
tests. Needs only numpy and onnx (Debian: python3-numpy, python3-onnx). The network is the
third model of the kernels issue's ONNX Runtime comparison ("a residual CIFAR-size network")
next to models/lenet5.onnx and models/vgg7s.onnx, and has their interface: opset 13, IR
version 7, input `input` float [N, 1, 28, 28] (N symbolic), output `logits` float [N, 10].
Weights are untrained: the speed does not depend on them.

    stem     Conv3x3 1->32 (pad 1) + BN + Relu                                  28x28
    block1   basic 32->32: Conv3x3+BN+Relu, Conv3x3+BN, Add identity, Relu      28x28
    block2   down 32->64: Conv3x3 stride 2+BN+Relu, Conv3x3+BN;
             shortcut Conv1x1 stride 2+BN; Add, Relu                            14x14
    block3   basic 64->64                                                       14x14
    block4   down 64->128 (as block2)                                           7x7
    head     GlobalAveragePool, Flatten, Gemm 128->10 (transB=1, bias)

The convolutions have no bias (as in ResNet; BatchNorm follows each). Weights: He (Kaiming)
normal, std sqrt(2 / fan_in), seeded (--seed, default 0). Every BatchNormalization has
non-trivial random parameters and statistics: scale U(0.5, 1.5) (U(0.2, 0.5) on the last BN
of each residual path, which keeps the sum's scale moderate), bias N(0, 0.1), running mean
N(0, 0.1), running variance U(0.5, 2), epsilon 1e-5. The Gemm is N(0, 1/128) with bias
N(0, 0.01).

The model is checked with onnx.checker (full_check: shape inference too). --check N runs it
in NumPy on N uniform random inputs in [-1, 1] and prints the logits' range and argmax
spread (a sanity check that the scales neither explode nor vanish); --save-io PREFIX also
writes those inputs and logits as PREFIX.in.npy and PREFIX.out.npy (e.g. to compare with
`sqc run`).
"""
import argparse
import collections
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 13
IR_VERSION = 7


class Builder:
    def __init__(self, rng):
        self.rng = rng
        self.nodes, self.inits = [], []

    def init(self, name, arr):
        self.inits.append(numpy_helper.from_array(np.asarray(arr, np.float32), name))
        return name

    def conv(self, prefix, x, cin, cout, k, stride):
        w = self.rng.normal(0.0, np.sqrt(2.0 / (cin * k * k)), (cout, cin, k, k))
        out = f"/{prefix}/Conv_output_0"
        p = k // 2
        self.nodes.append(helper.make_node(
            "Conv", [x, self.init(f"{prefix}.weight", w)], [out], name=f"/{prefix}/Conv",
            dilations=[1, 1], group=1, kernel_shape=[k, k], pads=[p, p, p, p],
            strides=[stride, stride]))
        return out

    def bn(self, prefix, x, c, last=False):
        r = self.rng
        gamma = r.uniform(0.2, 0.5, c) if last else r.uniform(0.5, 1.5, c)
        ins = [x,
               self.init(f"{prefix}.weight", gamma),
               self.init(f"{prefix}.bias", r.normal(0.0, 0.1, c)),
               self.init(f"{prefix}.running_mean", r.normal(0.0, 0.1, c)),
               self.init(f"{prefix}.running_var", r.uniform(0.5, 2.0, c))]
        out = f"/{prefix}/BatchNormalization_output_0"
        self.nodes.append(helper.make_node("BatchNormalization", ins, [out],
                                           name=f"/{prefix}/BatchNormalization",
                                           epsilon=1e-5, momentum=0.9))
        return out

    def op(self, op, prefix, ins, **a):
        out = f"/{prefix}/{op}_output_0"
        self.nodes.append(helper.make_node(op, ins, [out], name=f"/{prefix}/{op}", **a))
        return out

    def block(self, name, x, cin, cout, stride):
        h = self.conv(f"{name}.conv1", x, cin, cout, 3, stride)
        h = self.op("Relu", f"{name}.relu1", [self.bn(f"{name}.bn1", h, cout)])
        h = self.conv(f"{name}.conv2", h, cout, cout, 3, 1)
        h = self.bn(f"{name}.bn2", h, cout, last=True)
        if stride != 1 or cin != cout:  # projection shortcut
            s = self.conv(f"{name}.shortcut.0", x, cin, cout, 1, stride)
            x = self.bn(f"{name}.shortcut.1", s, cout, last=True)
        return self.op("Relu", f"{name}.relu2", [self.op("Add", f"{name}.add", [h, x])])


def make_model(seed):
    b = Builder(np.random.default_rng(seed))
    h = b.conv("stem.conv", "input", 1, 32, 3, 1)
    h = b.op("Relu", "stem.relu", [b.bn("stem.bn", h, 32)])
    h = b.block("block1", h, 32, 32, 1)
    h = b.block("block2", h, 32, 64, 2)
    h = b.block("block3", h, 64, 64, 1)
    h = b.block("block4", h, 64, 128, 2)
    h = b.op("GlobalAveragePool", "pool", [h])
    h = b.op("Flatten", "flatten", [h], axis=1)
    w = b.init("fc.weight", b.rng.normal(0.0, np.sqrt(1.0 / 128), (10, 128)))
    bias = b.init("fc.bias", b.rng.normal(0.0, 0.01, 10))
    b.nodes.append(helper.make_node("Gemm", [h, w, bias], ["logits"], name="/fc/Gemm",
                                    alpha=1.0, beta=1.0, transB=1))
    graph = helper.make_graph(
        b.nodes, "resnet8s",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", 1, 28, 28])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["N", 10])],
        b.inits)
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                          producer_name="sqc bench/resnet_model.py")
    m.ir_version = IR_VERSION
    return m


# ---------------------------------------------------------------- NumPy forward (--check)
def forward(model, x):
    """Runs the graph (only the ops make_model emits) on x [n, 1, 28, 28]."""
    env = {i.name: numpy_helper.to_array(i) for i in model.graph.initializer}
    env["input"] = x
    for n in model.graph.node:
        a = {t.name: helper.get_attribute_value(t) for t in n.attribute}
        ins = [env[i] for i in n.input]
        if n.op_type == "Conv":
            w, (k, s, p) = ins[1], (a["kernel_shape"][0], a["strides"][0], a["pads"][0])
            xp = np.pad(ins[0], ((0, 0), (0, 0), (p, p), (p, p)))
            ho = (xp.shape[2] - k) // s + 1
            wo = (xp.shape[3] - k) // s + 1
            y = np.zeros((x.shape[0], w.shape[0], ho, wo), np.float32)
            for i in range(k):
                for j in range(k):
                    patch = xp[:, :, i:i + s * ho:s, j:j + s * wo:s]
                    y += np.einsum("nchw,oc->nohw", patch, w[:, :, i, j])
        elif n.op_type == "BatchNormalization":
            g, bb, m, v = (t[None, :, None, None] for t in ins[1:5])
            y = (ins[0] - m) / np.sqrt(v + a.get("epsilon", 1e-5)) * g + bb
        elif n.op_type == "Relu":
            y = np.maximum(ins[0], 0)
        elif n.op_type == "Add":
            y = ins[0] + ins[1]
        elif n.op_type == "GlobalAveragePool":
            y = ins[0].mean(axis=(2, 3), keepdims=True)
        elif n.op_type == "Flatten":
            y = ins[0].reshape(ins[0].shape[0], -1)
        elif n.op_type == "Gemm":
            y = ins[0] @ ins[1].T + ins[2]
        else:
            raise SystemExit(f"resnet_model.py: no NumPy {n.op_type}")
        env[n.output[0]] = y.astype(np.float32)
    return env["logits"]


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("out", metavar="OUT.onnx")
    p.add_argument("--seed", type=int, default=0, help="weight seed (0)")
    p.add_argument("--check", type=int, default=0, metavar="N",
                   help="run N random inputs in NumPy and print the logits' spread")
    p.add_argument("--save-io", metavar="PREFIX",
                   help="with --check: write PREFIX.in.npy and PREFIX.out.npy")
    args = p.parse_args()

    m = make_model(args.seed)
    onnx.checker.check_model(m, full_check=True)
    tmp = args.out + ".tmp"
    onnx.save(m, tmp)
    os.replace(tmp, args.out)
    ops = collections.Counter(n.op_type for n in m.graph.node)
    params = sum(int(np.prod(i.dims)) for i in m.graph.initializer)
    print(f"resnet_model.py: {args.out}: {params} weights (with BN statistics); nodes: "
          + ", ".join(f"{k} {v}" for k, v in sorted(ops.items())), file=sys.stderr)
    if args.check:
        x = np.random.default_rng(1).uniform(-1, 1, (args.check, 1, 28, 28)).astype(np.float32)
        y = forward(m, x)
        print(f"resnet_model.py: check on {args.check} uniform random inputs: logits in "
              f"[{y.min():.4g}, {y.max():.4g}], std {y.std():.4g}, argmax classes "
              f"{np.bincount(y.argmax(1), minlength=10).tolist()}", file=sys.stderr)
        if args.save_io:
            np.save(args.save_io + ".in.npy", x)
            np.save(args.save_io + ".out.npy", y)


if __name__ == "__main__":
    main()
