"""`mtst export --quantize int8-static`: activation ranges calibrated on local texts, answers close to fp32."""

import json
from collections import Counter

import numpy as np
from conftest import tiny_records
from test_export import INT8_MIN_AGREEMENT, INT8_MIN_COSINE, fp32_export, texts, trained  # noqa: F401
from typer.testing import CliRunner

from mtst.cli import app
from mtst.onnx_backend import OnnxModel
from mtst.quantize import CALIBRATION_TEXTS, spread


def test_spread_takes_texts_evenly_and_at_most_the_cap():
    many = [str(i) for i in range(10 * CALIBRATION_TEXTS)]
    taken = spread(many)
    assert len(taken) == CALIBRATION_TEXTS and taken[0] == "0" and taken[-1] == str(10 * CALIBRATION_TEXTS - 10)
    assert spread(["a", "b"]) == ["a", "b"]


def test_static_int8_export_is_calibrated_and_agrees_with_fp32(trained, fp32_export, tmp_path):  # noqa: F811
    import onnx

    calibration = tmp_path / "calibration.txt"
    calibration.write_text("".join(r["text"].replace("\n", " ") + "\n" for r in tiny_records()))
    out = tmp_path / "static"
    result = CliRunner().invoke(
        app,
        ["export", "--model", str(trained[1]), "--output", str(out), "--quantize", "int8-static",
         "--calibration", str(calibration)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["quantize"] == "int8-static" and manifest["kept_fp32"]
    assert manifest["static"]["calibration_texts"] == len(tiny_records())
    ops = Counter(node.op_type for node in onnx.load(str(out / "model.onnx"), load_external_data=False).graph.node)
    # Calibrated products (fused by onnxruntime into integer kernels or still as Q/DQ pairs) and dynamic attention.
    assert ops["QuantizeLinear"] + ops["QLinearMatMul"] + ops["MatMulIntegerToFloat"] > 0, ops
    assert ops["QAttention"] > 0 and ops["Attention"] == 0, ops

    static = OnnxModel.load(out).run(texts())
    reference = OnnxModel.load(fp32_export).run(texts())
    assert (static.embeddings * reference.embeddings).sum(axis=1).min() > INT8_MIN_COSINE
    for name in reference.probabilities:
        agreement = np.mean(static.probabilities[name].argmax(1) == reference.probabilities[name].argmax(1))
        assert agreement >= INT8_MIN_AGREEMENT, name


def test_calibration_without_static_quantisation_is_a_usage_error(trained, tmp_path):  # noqa: F811
    result = CliRunner().invoke(
        app, ["export", "--model", str(trained[1]), "--output", str(tmp_path / "x"), "--calibration", "t.txt"]
    )
    assert result.exit_code != 0
    assert "int8-static only" in str(result.exception or result.output)
