#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets into tests/fuzz/corpus/<target>/.

Standard library only (protobuf encoded by hand), so it runs anywhere:
    python3 tests/fuzz/make_seeds.py
The outputs are committed; the build never runs Python. tests/fuzz/run.sh also seeds the
onnx target with the small models of tests/corpus/ and tests/models/ by path.
"""
import gzip
import os
import shutil
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "corpus")


def put(target, name, data):
    d = os.path.join(OUT, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def gz(data):
    return gzip.compress(data, mtime=0)


# ---- protobuf, by hand ---------------------------------------------------------------
def varint(n):
    n &= (1 << 64) - 1
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def key(field, wt):
    return varint(field << 3 | wt)


def v(field, n):          # varint field
    return key(field, 0) + varint(n)


def b(field, data):       # length-delimited field
    if isinstance(data, str):
        data = data.encode()
    return key(field, 2) + varint(len(data)) + data


def f32(field, x):
    return key(field, 5) + struct.pack("<f", x)


FLOAT, UINT8, INT8, INT32, INT64, STRING, BOOL, DOUBLE = 1, 2, 3, 6, 7, 8, 9, 11


def tensor(name, dims, dtype, raw=None, floats=None, int64s=None, int32s=None, doubles=None,
           external=None):
    t = b"".join(v(1, d) for d in dims) + v(2, dtype)
    if floats is not None:
        t += b(4, struct.pack("<%df" % len(floats), *floats))
    if int32s is not None:
        t += b(5, b"".join(varint(x) for x in int32s))
    if int64s is not None:
        t += b(7, b"".join(varint(x) for x in int64s))
    if name is not None:
        t += b(8, name)
    if raw is not None:
        t += b(9, raw)
    if doubles is not None:
        t += b(10, struct.pack("<%dd" % len(doubles), *doubles))
    if external is not None:
        for k, val in external:
            t += b(13, b(1, k) + b(2, val))
        t += v(14, 1)
    return t


def fraw(values):
    return struct.pack("<%df" % len(values), *values)


def attr_i(name, i):
    return b(1, name) + v(3, i) + v(20, 2)


def attr_f(name, x):
    return b(1, name) + f32(2, x) + v(20, 1)


def attr_ints(name, ints):
    return b(1, name) + b"".join(v(8, i) for i in ints) + v(20, 7)


def attr_t(name, t):
    return b(1, name) + b(5, t) + v(20, 4)


def node(op, ins, outs, attrs=(), name=None):
    n = b"".join(b(1, i) for i in ins) + b"".join(b(2, o) for o in outs)
    n += b(3, name or op + "_" + outs[0]) + b(4, op)
    return n + b"".join(b(5, a) for a in attrs)


def vinfo(name, dims, elem=FLOAT):
    shape = b"".join(b(1, b(2, d) if isinstance(d, str) else v(1, d)) for d in dims)
    return b(1, name) + b(2, b(1, v(1, elem) + b(2, shape)))


def model(nodes, inputs, outputs, inits=(), opset=13, meta=()):
    g = b"".join(b(1, n) for n in nodes) + b(2, "g")
    g += b"".join(b(5, t) for t in inits)
    g += b"".join(b(11, i) for i in inputs) + b"".join(b(12, o) for o in outputs)
    m = v(1, 7) + b(2, "make_seeds") + b(7, g) + b(8, b(1, "") + v(2, opset))
    return m + b"".join(b(14, b(1, k) + b(2, val)) for k, val in meta)


def seq(n, scale=0.1):
    return [((i * 7) % 11 - 5) * scale for i in range(n)]


def onnx_seeds():
    put("onnx", "relu.onnx", model([node("Relu", ["x"], ["y"])],
                                   [vinfo("x", ["N", 4])], [vinfo("y", ["N", 4])]))
    # Conv, Relu, MaxPool, Flatten, Gemm: the usual small CNN
    cnn = [node("Conv", ["x", "w", "cb"], ["c"], [attr_ints("kernel_shape", [3, 3]),
                                                  attr_ints("pads", [1, 1, 1, 1])]),
           node("Relu", ["c"], ["r"]),
           node("MaxPool", ["r"], ["p"], [attr_ints("kernel_shape", [2, 2]),
                                          attr_ints("strides", [2, 2])]),
           node("Flatten", ["p"], ["f"], [attr_i("axis", 1)]),
           node("Gemm", ["f", "gw", "gb"], ["y"], [attr_i("transB", 1)])]
    inits = [tensor("w", [2, 1, 3, 3], FLOAT, raw=fraw(seq(18))),
             tensor("cb", [2], FLOAT, floats=[0.1, -0.1]),
             tensor("gw", [3, 8], FLOAT, raw=fraw(seq(24))),
             tensor("gb", [3], FLOAT, floats=[0, 0.5, -0.5])]
    put("onnx", "cnn.onnx", model(cnn, [vinfo("x", [1, 1, 4, 4])], [vinfo("y", [1, 3])], inits))
    # BatchNormalization, Add, Clip with operands, GlobalAveragePool, Softmax
    bn = [node("BatchNormalization", ["x", "s", "b", "m", "var"], ["n"], [attr_f("epsilon", 1e-5)]),
          node("Add", ["n", "x"], ["a"]),
          node("Clip", ["a", "lo", "hi"], ["c"]),
          node("GlobalAveragePool", ["c"], ["gp"]),
          node("Flatten", ["gp"], ["f"]),
          node("Softmax", ["f"], ["y"], [attr_i("axis", 1)])]
    inits = [tensor("s", [2], FLOAT, floats=[1, 2]), tensor("b", [2], FLOAT, floats=[0, 1]),
             tensor("m", [2], FLOAT, floats=[0, 0.5]), tensor("var", [2], FLOAT, floats=[1, 4]),
             tensor("lo", [], FLOAT, floats=[0]), tensor("hi", [], FLOAT, floats=[6])]
    put("onnx", "bn_clip.onnx", model(bn, [vinfo("x", ["N", 2, 3, 3])], [vinfo("y", ["N", 2])], inits))
    # Constant, Shape/Gather/Concat, Reshape at opset 11: folding
    sh = [node("Constant", [], ["k"], [attr_t("value", tensor(None, [1], INT64, int64s=[-1]))]),
          node("Shape", ["x"], ["s"]),
          node("Gather", ["s", "i0"], ["n"], [attr_i("axis", 0)]),
          node("Unsqueeze", ["n"], ["nu"], [attr_ints("axes", [0])]),
          node("Concat", ["nu", "k"], ["ns"], [attr_i("axis", 0)]),
          node("Reshape", ["x", "ns"], ["r"]),
          node("Sigmoid", ["r"], ["sg"]),
          node("Mul", ["sg", "r"], ["y"])]
    inits = [tensor("i0", [], INT64, int64s=[0])]
    put("onnx", "reshape_op11.onnx", model(sh, [vinfo("x", ["N", 2, 2])], [vinfo("y", ["N", 4])],
                                            inits, opset=11))
    # AveragePool with SAME padding, Transpose, MatMul, Sub, Div, Pad
    mix = [node("AveragePool", ["x"], ["a"], [attr_ints("kernel_shape", [2, 2]),
                                              b(1, "auto_pad") + b(4, "SAME_UPPER") + v(20, 3)]),
           node("Transpose", ["a"], ["t"], [attr_ints("perm", [0, 1, 3, 2])]),
           node("MatMul", ["t", "mw"], ["mm"]),
           node("Sub", ["mm", "c1"], ["sb"]),
           node("Div", ["sb", "c1"], ["y"])]
    inits = [tensor("mw", [3, 2], FLOAT, raw=fraw(seq(6))), tensor("c1", [1], FLOAT, floats=[2])]
    put("onnx", "pool_matmul.onnx", model(mix, [vinfo("x", [1, 1, 3, 3])], [vinfo("y", [1, 1, 3, 2])],
                                          inits))
    # external data that is missing, and metadata
    ext = tensor("w", [4], FLOAT, external=[("location", "w.bin"), ("offset", "0"), ("length", "16")])
    put("onnx", "external.onnx", model([node("Add", ["x", "w"], ["y"])], [vinfo("x", [4])],
                                       [vinfo("y", [4])], [ext], meta=[("sqc.quantized", "none")]))


def npy(descr, shape, data, version=(1, 0), fortran=False):
    sh = "(" + "".join("%d, " % d for d in shape)[:-1 if len(shape) > 1 else None].rstrip(" ")
    sh = "(%s)" % ", ".join(str(d) for d in shape) if len(shape) != 1 else "(%d,)" % shape[0]
    h = "{'descr': '%s', 'fortran_order': %s, 'shape': %s, }" % (descr, fortran, sh)
    lenbytes = 2 if version[0] == 1 else 4
    pre = 6 + 2 + lenbytes
    pad = (64 - (pre + len(h) + 1) % 64) % 64
    h = (h + " " * pad + "\n").encode()
    ln = struct.pack("<H", len(h)) if lenbytes == 2 else struct.pack("<I", len(h))
    return b"\x93NUMPY" + bytes(version) + ln + h + data


def npy_seeds():
    put("npy", "f4_2x3.npy", npy("<f4", (2, 3), fraw(seq(6))))
    put("npy", "f8_2x2.npy", npy("<f8", (2, 2), struct.pack("<4d", 1, -2, 0.5, 1e300)))
    put("npy", "i8_scalar.npy", npy("<i8", (), struct.pack("<q", -7)))
    put("npy", "u1_4.npy", npy("|u1", (4,), bytes([0, 1, 128, 255])))
    put("npy", "i4_empty.npy", npy("<i4", (0, 3), b""))
    put("npy", "b1_3.npy", npy("|b1", (3,), bytes([1, 0, 1])))
    put("npy", "f4_v2.npy", npy("<f4", (1, 2), fraw([1, 2]), version=(2, 0)))
    put("npy", "f4_v3.npy", npy("<f4", (2,), fraw([3, 4]), version=(3, 0)))
    put("npy", "i2_fortran.npy", npy("<i2", (2, 2), struct.pack("<4h", 1, 2, 3, 4), fortran=True))
    put("npy", "f4_big_endian.npy", npy(">f4", (2,), struct.pack(">2f", 1, 2)))


def pb_seeds():
    put("tensor_pb", "float_data.pb", tensor("x", [2, 3], FLOAT, floats=seq(6)))
    put("tensor_pb", "float_raw.pb", tensor("x", [1, 1, 2, 2], FLOAT, raw=fraw(seq(4))))
    put("tensor_pb", "int64.pb", tensor("i", [3], INT64, int64s=[1, -1, 1 << 40]))
    put("tensor_pb", "int32.pb", tensor("i", [2], INT32, int32s=[5, -5]))
    put("tensor_pb", "uint8_raw.pb", tensor("u", [4], UINT8, raw=bytes([0, 1, 2, 255])))
    put("tensor_pb", "int8_int32data.pb", tensor("s", [2], INT8, int32s=[-128, 127]))
    put("tensor_pb", "double.pb", tensor("d", [2], DOUBLE, doubles=[1.5, -2.5]))
    put("tensor_pb", "bool.pb", tensor("b", [2], BOOL, int32s=[1, 0]))
    put("tensor_pb", "scalar.pb", tensor("s", [], FLOAT, floats=[3]))
    put("tensor_pb", "empty.pb", tensor("e", [0, 2], FLOAT))
    put("tensor_pb", "external.pb", tensor("x", [2], FLOAT, external=[("location", "x.bin")]))


def be(fmt, *vals):
    return struct.pack(">" + fmt, *vals)


def idx(tcode, dims, payload):
    return bytes([0, 0, tcode, len(dims)]) + b"".join(be("I", d) for d in dims) + payload


def idx_seeds():
    images = idx(0x08, [3, 2, 2], bytes(range(12)))
    labels = idx(0x08, [3], bytes([0, 9, 4]))
    put("idx", "images_u8.idx", images)
    put("idx", "labels_u8.idx", labels)
    put("idx", "images_u8.idx.gz", gz(images))
    put("idx", "labels_u8.idx.gz", gz(labels))
    put("idx", "i8.idx", idx(0x09, [2, 2], bytes([0x80, 1, 2, 0x7F])))
    put("idx", "i16.idx", idx(0x0B, [3], be("3h", -1, 2, 300)))
    put("idx", "i32.idx", idx(0x0C, [2, 1], be("2i", -70000, 5)))
    put("idx", "f32.idx", idx(0x0D, [2, 2], be("4f", 1, -1, 0.5, 3)))
    put("idx", "f64.idx", idx(0x0E, [2], be("2d", 1e-300, -2)))
    put("idx", "f64.idx.gz", gz(idx(0x0E, [1, 2], be("2d", 4, 5))))
    rec = lambda lab, k: bytes([lab]) + bytes((i * k) & 0xFF for i in range(3072))
    put("idx", "cifar_1.bin", rec(3, 1))
    put("idx", "cifar_2.bin.gz", gz(rec(1, 3) + rec(8, 5)))


CONFIGS = {
    "sq_tiny.yaml": None,   # copied from tests/configs
    "sq_nolabels.yaml": None,
    "idx_full.yaml": """data:
  format: idx
  root: /nonexistent
  train: {images: a.gz, labels: b.gz}
  test: {images: c, labels: d}
  classes: 10
  normalize: {scale: 0.00392156862745098, mean: [0.2860], std: [0.3530]}
  layout: nchw
model: {name: lenet5, accuracy: 0.9129, recipe: "Adam"}
sq:
  method: sq
  act_bits: 2
  epochs: 3
  recovery_epochs: 1
  batch: 64
  train_limit: 768
  optimizer: sgd
  lr: 0.01
  momentum: 0.9
  weight_decay: 1e-4
  schedule: step
  lr_step_epochs: 2
  lr_gamma: 0.5
  lambda: 1e-3
  gamma: 0.1
  p: 2
  threshold: 0.7
  zero_frac_max: 0.5
  tan_binary: 2.0
  scale_lr: 0.001
  bn: frozen
  keep_float: [conv1, fc3]
  seed: 7
  distill_temperature: 4
  reg_warmup: 1
  decide: early
  recovery_reg: true
  balance: count
""",
    "npy_nhwc.yaml": """data:
  format: npy
  train: {images: x.npy, labels: y.npy}
  layout: nhwc
  normalize: {scale: 1, mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25]}
  classes: 100
sq: {method: twn, schedule: cosine, optimizer: adam, bn: batch}
""",
    "cifar.yaml": """# anchors, flow and block styles
data: &d
  format: cifar10
  test:
    images: test_batch.bin
  classes: 10
sq:
  method: bwn
  act_bits: 32
  schedule: constant
  keep_float:
    - a
    - b
""",
}


def config_seeds():
    for name, text in CONFIGS.items():
        if text is None:
            with open(os.path.join(HERE, "..", "configs", name), "rb") as f:
                put("config", name, f.read())
        else:
            put("config", name, text.encode())


if __name__ == "__main__":
    if os.path.isdir(OUT):
        shutil.rmtree(OUT)
    onnx_seeds()
    npy_seeds()
    pb_seeds()
    idx_seeds()
    config_seeds()
