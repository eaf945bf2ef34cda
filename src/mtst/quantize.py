"""Static (calibrated) int8 for an exported mtst graph, with onnxruntime's quantize_static.

Dynamic int8 (`mtst export --quantize int8`) measures each batch's activation range at run time, a pass
over every activation before each quantised product. Static int8 measures the ranges once, here, on
calibration texts, and stores them in the graph as QuantizeLinear/DequantizeLinear pairs (QDQ), which
onnxruntime fuses into integer kernels when it loads the graph.

What is quantised, and why:
- every MatMul (weights int8 per output channel, activations uint8 with calibrated ranges), except the
  feed-forward output projections, whose heavy-tailed GELU input loses most to one scale per tensor (the
  same finding as dynamic int8: docs/performance.md);
- the fused Attention nodes, which static quantisation does not support, are then quantised dynamically
  (their QKV projection is a quarter of the matrix work), so the graph mixes both kinds.
The heads (Gemm) and embedding tables stay fp32.
"""

import logging
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np

log = logging.getLogger("mtst")

CALIBRATION_TEXTS = 600  # at most this many calibration texts, taken evenly from what is given
CALIBRATION_BATCH = 32
# Ranges from percentiles, not min/max: one outlier token would otherwise widen a tensor's scale for every text.
CALIBRATION_METHOD = "MinMax"
PERCENTILE = 99.999
FORMAT = "QDQ"  # QDQ or QOperator (QLinearMatMul nodes written directly)


def spread(texts: Sequence[str], n: int = CALIBRATION_TEXTS) -> list[str]:
    """At most n texts, taken evenly across the input (files are often grouped by label or source)."""
    texts = list(texts)
    if len(texts) <= n:
        return texts
    step = len(texts) / n
    return [texts[int(i * step)] for i in range(n)]


def calibration_rows(encoder, texts: Sequence[str] | None) -> list[list[int]]:
    """Token ids of the calibration texts (default: mtst.precision's 100 built-in texts of the default tasks)."""
    from mtst.precision import CHECK_TEXTS

    return encoder.tokenize(spread(CHECK_TEXTS if texts is None else texts))[0]


class TextReader:
    """onnxruntime's CalibrationDataReader over texts: length-sorted batches, padded to their longest text."""

    def __init__(self, rows: list[list[int]], pad_id: int, batch_size: int = CALIBRATION_BATCH) -> None:
        order = sorted(range(len(rows)), key=lambda i: len(rows[i]))
        self.batches = [[rows[i] for i in order[s : s + batch_size]] for s in range(0, len(order), batch_size)]
        self.pad_id = pad_id
        self._next: Iterator[list[list[int]]] = iter(self.batches)

    def get_next(self) -> dict[str, np.ndarray] | None:
        batch = next(self._next, None)
        if batch is None:
            return None
        from mtst.onnx_backend import pad_rows

        return pad_rows(batch, self.pad_id)

    def rewind(self) -> None:
        self._next = iter(self.batches)


def quantize_int8_static(
    source: Path, target: Path, token_rows: list[list[int]], pad_id: int, excluded: list[str]
) -> dict:
    """Calibrated int8 of the fused fp32 graph `source` into `target`; returns what was done, for the manifest."""
    import onnx
    from onnxruntime.quantization import CalibrationMethod, QuantFormat, QuantType, quantize_dynamic, quantize_static
    from onnxruntime.tools.symbolic_shape_infer import SymbolicShapeInference

    # The calibrator picks the tensors to measure by their types; onnx's own shape inference cannot type the
    # outputs of fused (com.microsoft) nodes, onnxruntime's symbolic one can.
    typed = target.with_name(target.stem + ".typed.onnx")
    onnx.save_model(
        SymbolicShapeInference.infer_shapes(onnx.load(str(source)), auto_merge=True),
        str(typed),
        save_as_external_data=True,
        location=typed.name + ".data",
    )
    source = typed
    work = target.with_name(target.stem + ".static.onnx")
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)  # the quantisers log advice on pre-processing that does not apply to fused graphs
    try:
        quantize_static(
            str(source),
            str(work),
            TextReader(token_rows, pad_id),
            quant_format=getattr(QuantFormat, FORMAT),
            op_types_to_quantize=["MatMul"],
            per_channel=True,
            activation_type=QuantType.QUInt8,
            weight_type=QuantType.QInt8,
            nodes_to_exclude=excluded,
            calibrate_method=getattr(CalibrationMethod, CALIBRATION_METHOD),
            use_external_data_format=True,
            extra_options={
                "CalibPercentile": PERCENTILE,
                "DefaultTensorType": onnx.TensorProto.FLOAT,  # fused (com.microsoft) nodes' outputs are float
                "MatMulConstBOnly": True,  # only products with a weight: not attention's scores
            },
        )
        quantize_dynamic(
            str(work),
            str(target),
            per_channel=True,
            weight_type=QuantType.QInt8,
            op_types_to_quantize=["Attention"],
            use_external_data_format=True,
            extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
        )
    finally:
        root.setLevel(level)
    return {
        "calibration_texts": len(token_rows),
        "calibration_method": CALIBRATION_METHOD,
        "percentile": PERCENTILE,
        "format": f"{FORMAT} MatMul (static) + dynamic Attention",
    }
