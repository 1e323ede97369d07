"""Writes the seed corpus of fuzz_OnnxImport: tiny ONNX models, each made of
patterns nnc import knows (run once; the .onnx files are checked in).

usage: python3 make-seeds.py  (in this folder; needs Debian's python3-onnx)
"""
import numpy as np
from onnx import TensorProto, checker, helper, numpy_helper, save


def init(name, shape, scale=0.1):
    n = int(np.prod(shape)) if shape else 1
    v = (np.arange(n, dtype=np.float32) * scale).reshape(shape)
    return numpy_helper.from_array(v, name)


def model(name, nodes, inits, in_shape, out, opset=17):
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, in_shape)
    y = helper.make_tensor_value_info(out, TensorProto.FLOAT, ["N", None])
    g = helper.make_graph(nodes, name, [x], [y], inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)])
    checker.check_model(m)
    save(m, name + ".onnx")


N = helper.make_node
model("mlp", [N("Gemm", ["x", "fc1.weight", "fc1.bias"], ["h"], transB=1),
              N("Relu", ["h"], ["r"]),
              N("Gemm", ["r", "fc2.weight", "fc2.bias"], ["z"], transB=1),
              N("Softmax", ["z"], ["p"], axis=1)],
      [init("fc1.weight", [3, 4]), init("fc1.bias", [3]),
       init("fc2.weight", [2, 3]), init("fc2.bias", [2])], ["N", 4], "p")
model("cnn", [N("Conv", ["x", "c.weight", "c.bias"], ["c"], pads=[1, 1, 1, 1]),
              N("Relu", ["c"], ["r"]),
              N("BatchNormalization", ["r", "b.w", "b.b", "b.m", "b.v"], ["n"]),
              N("MaxPool", ["n"], ["p"], kernel_shape=[2, 2], strides=[2, 2]),
              N("AveragePool", ["p"], ["a"], kernel_shape=[1, 1]),
              N("GlobalAveragePool", ["a"], ["g"]),
              N("Flatten", ["g"], ["f"]),
              N("Gemm", ["f", "fc.weight", "fc.bias"], ["z"], transB=1)],
      [init("c.weight", [2, 1, 3, 3]), init("c.bias", [2]),
       init("b.w", [2]), init("b.b", [2]), init("b.m", [2]),
       init("b.v", [2], 1.0), init("fc.weight", [3, 2]), init("fc.bias", [3])],
      ["N", 1, 4, 4], "z", opset=13)
shape = numpy_helper.from_array(np.array([0, 2, 2], dtype=np.int64), "shape")
model("plain", [N("MatMul", ["x", "w"], ["m"]),
                N("Add", ["m", "b"], ["a"]),
                N("Tanh", ["a"], ["t"]),
                N("Mul", ["t", "k"], ["s"]),
                N("Reshape", ["s", "shape"], ["r"]),
                N("Exp", ["r"], ["e"]),
                N("Flatten", ["e"], ["out"])],
      [init("w", [4, 4]), init("b", [4]), init("k", [], 2.0), shape],
      ["N", 4], "out")
