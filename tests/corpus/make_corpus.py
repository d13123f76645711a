#!/usr/bin/python3
"""Corpus maker: malformed / unsupported ONNX inputs the compiler must reject cleanly.

Run by hand from anywhere:   /usr/bin/python3 tests/corpus/make_corpus.py
Writes one file per case next to this script, plus cases.txt
(`<file> <substring>`: the rest of the line after the first space is the substring,
lowercase, that the compiler's error message must contain), plus the GOOD
external-data case in good_external/.  Outputs are committed; the build never runs
Python.  Each bad model is built so that it has exactly one defect: everything
else about it is a valid opset-13 model.
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
MAX_BYTES = 200 * 1024
FLOAT = TensorProto.FLOAT

CASES = []   # (file, substring)


def vi(name, shape, elem=FLOAT):
    return helper.make_tensor_value_info(name, elem, shape)


def model(nodes, inputs, outputs, inits=(), opset=13, ir=7, name="g"):
    g = helper.make_graph(nodes, name, inputs, outputs, initializer=list(inits))
    return helper.make_model(g, ir_version=ir, producer_name="sqc-corpus",
                             opset_imports=[helper.make_opsetid("", opset)])


def f32(shape, seed):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


def write_bytes(fname, data, substring):
    with open(os.path.join(HERE, fname), "wb") as f:
        f.write(data)
    CASES.append((fname, substring))


def write_model(fname, m, substring):
    write_bytes(fname, m.SerializeToString(), substring)


def parses_as_model(data):
    try:
        onnx.ModelProto().ParseFromString(data)
        return True
    except Exception:
        return False


def gemm_model(w_tensor, name="gemm"):
    """Y[1,4] = X[1,3] @ W[4,3]^T + B[4]; W is supplied by the caller."""
    b = numpy_helper.from_array(f32([4], 11), "B")
    return model([helper.make_node("Gemm", ["X", "W", "B"], ["Y"], name=name, transB=1)],
                 [vi("X", [1, 3])], [vi("Y", [1, 4])], [w_tensor, b])


def external_tensor(name, dims, location, offset=None, length=None):
    t = TensorProto()
    t.name = name
    t.data_type = FLOAT
    t.dims.extend(dims)
    t.data_location = TensorProto.EXTERNAL
    for k, v in (("location", location), ("offset", offset), ("length", length)):
        if v is not None:
            e = t.external_data.add()
            e.key, e.value = k, str(v)
    return t


def bad_cases():
    # --- not a (parseable) ModelProto at all -----------------------------------
    write_bytes("empty.onnx", b"", "empty")

    seed = 0
    while True:   # 4 KiB of seeded random bytes that protobuf refuses to parse
        data = np.random.default_rng(seed).bytes(4096)
        if not parses_as_model(data):
            break
        seed += 1
    write_bytes("random.onnx", data, "parse")

    # A valid model (~2.4 KiB, almost all of it the graph field) cut in half:
    # the cut lands inside a length-delimited field.
    w = numpy_helper.from_array(f32([4, 150], 1), "W")
    good = model([helper.make_node("Gemm", ["X", "W"], ["Y"], transB=1)],
                 [vi("X", [1, 150])], [vi("Y", [1, 4])], [w]).SerializeToString()
    cut = good[: len(good) // 2]
    assert not parses_as_model(cut)
    write_bytes("truncated.onnx", cut, "parse")

    # A serialized GraphProto alone.  Its field 1 (node, length-delimited) collides
    # with ModelProto field 1 (ir_version, varint): protobuf-c rejects the wire type.
    gp = helper.make_graph([helper.make_node("Relu", ["X"], ["Y"])], "not_a_model",
                           [vi("X", [1, 4])], [vi("Y", [1, 4])])
    write_bytes("not_onnx.onnx", gp.SerializeToString(), "parse")

    # --- structurally broken models ---------------------------------------------
    m = onnx.ModelProto()
    m.ir_version = 7
    m.producer_name = "sqc-corpus"
    m.opset_import.add(domain="", version=13)
    write_model("no_graph.onnx", m, "no graph")

    write_model("unsupported_op.onnx",
                model([helper.make_node("FooBar", ["X"], ["Y"], name="my_node")],
                      [vi("X", [1, 4])], [vi("Y", [1, 4])]),
                "unsupported op")

    write_model("unsupported_dtype.onnx",
                model([helper.make_node("Relu", ["X"], ["Y"], name="relu")],
                      [vi("X", [1, 4], TensorProto.FLOAT16)],
                      [vi("Y", [1, 4], TensorProto.FLOAT16)]),
                "data type")

    # Conv on a rank-2 input (weight is a proper 4-D 1->4 channel 3x3 kernel).
    write_model("rank_mismatch.onnx",
                model([helper.make_node("Conv", ["X", "W"], ["Y"], name="conv",
                                        kernel_shape=[3, 3])],
                      [vi("X", [1, 16])], [vi("Y", [1, 4, 1, 1])],
                      [numpy_helper.from_array(f32([4, 1, 3, 3], 2), "W")]),
                "rank")

    # Gemm A[1,10] x B[20,5]: K is 10 vs 20.
    write_model("shape_mismatch.onnx",
                model([helper.make_node("Gemm", ["X", "W", "B"], ["Y"], name="gemm")],
                      [vi("X", [1, 10])], [vi("Y", [1, 5])],
                      [numpy_helper.from_array(f32([20, 5], 3), "W"),
                       numpy_helper.from_array(f32([5], 4), "B")]),
                "mismatch")

    # a = X + b ; b = a + X  (the two Adds feed each other)
    write_model("cycle.onnx",
                model([helper.make_node("Add", ["X", "b"], ["a"], name="add_a"),
                       helper.make_node("Add", ["a", "X"], ["b"], name="add_b")],
                      [vi("X", [1, 4])], [vi("b", [1, 4])]),
                "cycle")

    write_model("missing_input.onnx",
                model([helper.make_node("Relu", ["X"], ["r"], name="relu"),
                       helper.make_node("Add", ["r", "ghost"], ["Y"], name="add")],
                      [vi("X", [1, 4])], [vi("Y", [1, 4])]),
                "not found")

    # Conv weight "conv.weight" is neither an initializer nor a graph input
    # (an initializer exists, but under another name).
    write_model("missing_initializer.onnx",
                model([helper.make_node("Conv", ["X", "conv.weight", "conv.bias"], ["Y"],
                                        name="conv", kernel_shape=[3, 3])],
                      [vi("X", [1, 1, 8, 8])], [vi("Y", [1, 2, 6, 6])],
                      [numpy_helper.from_array(f32([2, 1, 3, 3], 5), "conv.weights"),
                       numpy_helper.from_array(f32([2], 6), "conv.bias")]),
                "not found")

    big = 1 << 40   # 2^120 elements in total
    write_model("overflow_dims.onnx",
                model([helper.make_node("Relu", ["X"], ["Y"], name="relu")],
                      [vi("X", [big, big, big])], [vi("Y", [big, big, big])]),
                "overflow")

    # --- external data -----------------------------------------------------------
    write_model("external_escape.onnx",
                gemm_model(external_tensor("W", [4, 3], "../../etc/passwd", 0, 48)),
                "escapes")
    write_model("external_absolute.onnx",
                gemm_model(external_tensor("W", [4, 3], "/etc/passwd", 0, 48)),
                "absolute")
    write_model("external_missing.onnx",
                gemm_model(external_tensor("W", [4, 3], "weights.bin", 0, 48)),
                "cannot open")

    # --- semantic errors ---------------------------------------------------------
    write_model("bad_attribute.onnx",
                model([helper.make_node("Conv", ["X", "W"], ["Y"], name="conv",
                                        kernel_shape=[5, 5])],
                      [vi("X", [1, 1, 8, 8])], [vi("Y", [1, 2, 6, 6])],
                      [numpy_helper.from_array(f32([2, 1, 3, 3], 7), "W")]),
                "kernel_shape")

    write_model("bad_opset.onnx",
                model([helper.make_node("Relu", ["X"], ["Y"], name="relu")],
                      [vi("X", [1, 4])], [vi("Y", [1, 4])], opset=99),
                "opset")

    write_model("duplicate_output.onnx",
                model([helper.make_node("Relu", ["X"], ["Y"], name="relu"),
                       helper.make_node("Sigmoid", ["X"], ["Y"], name="sigmoid")],
                      [vi("X", [1, 4])], [vi("Y", [1, 4])]),
                "duplicate")

    w = numpy_helper.from_array(f32([4, 3], 8), "W")   # needs 48 bytes
    w.raw_data = w.raw_data[:8]
    write_model("raw_data_short.onnx", gemm_model(w), "raw_data")

    # Add(X[1,3], W) with W dims [-1, 3] (raw_data holds 3 floats)
    w = TensorProto()
    w.name = "W"
    w.data_type = FLOAT
    w.dims.extend([-1, 3])
    w.raw_data = f32([3], 9).tobytes()
    write_model("negative_dim.onnx",
                model([helper.make_node("Add", ["X", "W"], ["Y"], name="add")],
                      [vi("X", [1, 3])], [vi("Y", [1, 3])], [w]),
                "negative")

    # --- issue 12: sizes checked before allocating, opset and legacy axis ranges -------
    # (first written by hand-encoded protobuf while python3-onnx was unavailable; this
    # code builds the same models)
    # W dims [2^19, 2^19]: 2^38 floats (1 TiB) claimed by 48 bytes of raw_data. Over the
    # element limit: refused before anything is allocated (it used to abort on OOM).
    w = TensorProto()
    w.name = "W"
    w.data_type = FLOAT
    w.dims.extend([1 << 19, 1 << 19])
    w.raw_data = f32([12], 12).tobytes()
    write_model("huge_initializer.onnx", gemm_model(w), "too large")

    # W dims [2^17, 2^17]: 2^34 floats (64 GiB, at the limit), 48 bytes of raw_data: the
    # data's length is checked before the 64 GiB are allocated.
    w = TensorProto()
    w.name = "W"
    w.data_type = FLOAT
    w.dims.extend([1 << 17, 1 << 17])
    w.raw_data = f32([12], 13).tobytes()
    write_model("huge_raw_short.onnx", gemm_model(w), "raw_data")

    # Default-domain opset -1 (it used to read as a missing opset, then as opset 1)
    write_model("opset_negative.onnx",
                model([helper.make_node("Relu", ["X"], ["Y"], name="relu")],
                      [vi("X", [1, 3])], [vi("Y", [1, 3])], opset=-1),
                "opset -1")

    # Opset-6 Add(X[2,3], C[3]) with broadcast=1, axis=5: C cannot sit at axis 5
    write_model("legacy_axis_range.onnx",
                model([helper.make_node("Add", ["X", "C"], ["Y"], name="add",
                                        broadcast=1, axis=5)],
                      [vi("X", [2, 3])], [vi("Y", [2, 3])],
                      [numpy_helper.from_array(np.array([1, 2, 3], np.float32), "C")],
                      opset=6),
                "broadcast axis 5")


def good_external():
    d = os.path.join(HERE, "good_external")
    os.makedirs(d, exist_ok=True)
    K, M, N = 8, 4, 2
    W = f32([M, K], 20)                 # Gemm B operand, used with transB=1
    B = f32([M], 21)
    X = f32([N, K], 22)
    # weights.bin = B (16 bytes at offset 0) ++ W (128 bytes at offset 16):
    # a loader that ignores "offset" reads the wrong bytes for W.
    blob = B.tobytes() + W.tobytes()
    with open(os.path.join(d, "weights.bin"), "wb") as f:
        f.write(blob)
    tw = external_tensor("W", [M, K], "weights.bin", offset=B.nbytes, length=W.nbytes)
    tb = external_tensor("B", [M], "weights.bin", offset=0, length=B.nbytes)
    m = model([helper.make_node("Gemm", ["input", "W", "B"], ["output"], name="gemm",
                                alpha=1.0, beta=1.0, transB=1)],
              [vi("input", [N, K])], [vi("output", [N, M])], [tw, tb], name="good_external")
    path = os.path.join(d, "model.onnx")
    onnx.save(m, path)
    onnx.checker.check_model(path)
    # round-trip through onnx's own external-data loader
    loaded = onnx.load(path)
    lw = numpy_helper.to_array([t for t in loaded.graph.initializer if t.name == "W"][0])
    assert np.array_equal(lw, W)
    Y = (X.astype(np.float64) @ W.astype(np.float64).T + B).astype(np.float32)
    np.save(os.path.join(d, "in.npy"), np.ascontiguousarray(X))
    np.save(os.path.join(d, "out.npy"), np.ascontiguousarray(Y))


def main():
    bad_cases()
    good_external()
    with open(os.path.join(HERE, "cases.txt"), "w") as f:
        for fname, sub in CASES:
            assert sub == sub.lower() and " " not in fname
            f.write(f"{fname} {sub}\n")
    for root, _, files in os.walk(HERE):
        for fn in sorted(files):
            p = os.path.join(root, fn)
            sz = os.path.getsize(p)
            if sz > MAX_BYTES:
                sys.exit(f"{p}: {sz} bytes > {MAX_BYTES}")
    for fname, sub in CASES:
        print(f"{fname:28s} {os.path.getsize(os.path.join(HERE, fname)):6d}  {sub}")


if __name__ == "__main__":
    main()
