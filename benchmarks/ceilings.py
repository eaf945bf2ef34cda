"""What this CPU's matrix units give at each precision, and the model's work: for "% of ceiling" columns.

fp32 and bf16: a square torch matmul (MKL / oneDNN: AMX or AVX-512 BF16 where the CPU has them, emulated
elsewhere). int8: a square onnxruntime MatMulInteger (uint8 x int8 -> int32, MLAS: VNNI or AMX where present),
the kernel mtst's int8 exports run. Model work counts multiply-adds x 2 on real tokens only.
"""

import time

import numpy as np


def _best_seconds(fn, repeats: int) -> float:
    """The fastest of `repeats` runs: a ceiling is what the hardware gives when nothing else is in the way."""
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def matmul_gflops(dtype, size: int = 1024, repeats: int = 10) -> float:
    """GFLOP/s of a square torch matmul in `dtype`."""
    import torch

    a, b = torch.randn(size, size, dtype=dtype), torch.randn(size, size, dtype=dtype)
    return 2 * size**3 / _best_seconds(lambda: a @ b, repeats) / 1e9


def int8_gops(size: int = 1024, repeats: int = 10) -> float:
    """GOP/s of a square onnxruntime MatMulInteger (uint8 activations x int8 weights, as mtst's int8 graphs)."""
    import onnx
    import onnxruntime as ort
    from onnx import TensorProto, helper

    rng = np.random.default_rng(0)
    weight = rng.integers(-127, 128, size=(size, size), dtype=np.int8)
    graph = helper.make_graph(
        [helper.make_node("MatMulInteger", ["a", "b"], ["y"])],
        "int8_ceiling",
        [helper.make_tensor_value_info("a", TensorProto.UINT8, [size, size])],
        [helper.make_tensor_value_info("y", TensorProto.INT32, [size, size])],
        [onnx.numpy_helper.from_array(weight, "b")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    feed = {"a": rng.integers(0, 256, size=(size, size), dtype=np.uint8)}
    return 2 * size**3 / _best_seconds(lambda: session.run(None, feed), repeats) / 1e9


def all_ceilings() -> dict[str, float]:
    import torch

    return {
        "fp32": matmul_gflops(torch.float32, 1024),
        "bf16": matmul_gflops(torch.bfloat16, 1024),
        "int8": int8_gops(1024),
    }


def model_flops(token_counts, config) -> float:
    """Multiply-adds x 2 of the encoder on these texts (real tokens only, no padding): projections, FFN and
    attention scores and mixing. Embedding lookups, norms, pooling and heads are too small to count."""
    d, ff, layers = config.hidden_size, config.intermediate_size, config.num_hidden_layers
    lengths = np.asarray(token_counts, dtype=np.float64)
    per_layer = 2 * lengths * (4 * d * d + 2 * d * ff) + 4 * lengths**2 * d
    return float(layers * per_layer.sum())
