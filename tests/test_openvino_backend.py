"""`mtst export --runtime openvino` and the OpenVINO backend: torch's numbers in f32, close to them in int8."""

import json
import shutil
import sys

import numpy as np
import pytest
from conftest import predict_in_fresh_process, tiny_records
from test_export import INT8_MIN_AGREEMENT, texts, trained  # noqa: F401
from test_server import wait_ready
from typer.testing import CliRunner

from mtst.backend import load_model
from mtst.cli import app
from mtst.errors import MtstError
from mtst.onnx_backend import OnnxModel
from mtst.openvino_backend import OpenVinoModel

# NNCF's static int8 calibrated on the tiny set, heads fitted to it: we measured a minimum cosine of 0.976 to fp32
# (the long text) and at least 97% of labels the same per task (AMD EPYC with AVX-512 VNNI, other ops in bf16);
# the floors leave room for other CPUs' int8 and bf16 kernels.
INT8_MIN_COSINE = 0.95


@pytest.fixture(scope="module")
def ov_export(trained, tmp_path_factory):  # noqa: F811
    from mtst.openvino_export import export_openvino

    return export_openvino(trained[1], tmp_path_factory.mktemp("openvino") / "default")


@pytest.fixture(scope="module")
def ov_int8_export(trained, tmp_path_factory):  # noqa: F811
    """Through the CLI, calibrated on the tiny set."""
    folder = tmp_path_factory.mktemp("openvino")
    calibration = folder / "calibration.txt"
    # The tiny set, and one long text: ranges measured on short texts alone clip a 256-token text's activations
    # (min cosine to fp32 on the fixture's long text: 0.953 without it, 0.976 with it).
    calibration_texts = [r["text"].replace("\n", " ") for r in tiny_records()] + ["Just scanned my receipt " * 60]
    calibration.write_text("".join(text + "\n" for text in calibration_texts))
    result = CliRunner().invoke(
        app,
        ["export", "--model", str(trained[1]), "--output", str(folder / "int8"), "--runtime", "openvino",
         "--quantize", "int8-static", "--calibration", str(calibration)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    return folder / "int8"


def labels(outputs) -> dict[str, np.ndarray]:
    return {name: p.argmax(1) for name, p in outputs.probabilities.items()}


def quantised_matmuls(folder) -> set[str]:
    """The MatMuls NNCF quantised: those whose activation input comes through a FakeQuantize."""
    import openvino as ov

    return {
        op.get_friendly_name()
        for op in ov.Core().read_model(str(folder / "model.xml")).get_ops()
        if op.get_type_name() == "MatMul"
        and any(v.get_node().get_type_name() == "FakeQuantize" for v in op.input_values())
    }


def test_export_folder_holds_the_openvino_model_and_a_manifest_saying_so(trained, ov_export):  # noqa: F811
    model, _ = trained
    assert {"model.xml", "model.bin", "tokenizer.json", "tasks.json", "manifest.json"} <= {
        p.name for p in ov_export.iterdir()
    }
    manifest = json.loads((ov_export / "manifest.json").read_text())
    assert manifest["format"] == "mtst-openvino" and manifest["runtime"] == "openvino"
    assert manifest["quantize"] is None and manifest["versions"]["openvino"]
    assert manifest["outputs"]["logits"] == {n: f"logits_{n}" for n in model.tasks}
    # the graph itself is exact: run in f32 at export, within the ONNX export's fp32 tolerance of torch
    assert manifest["check_fp32"]["max_abs_diff_embeddings"] <= 1e-4
    assert manifest["check_fp32"]["max_abs_diff_logits"] <= 1e-4
    assert manifest["check_precision"] in ("fp32", "bf16", "fp16")


def test_f32_run_matches_torch(trained, ov_export):  # noqa: F811
    model, _ = trained
    exported = OpenVinoModel.load(ov_export, inference_precision="f32")
    assert exported.describe()["inference_precision"] == "fp32"
    ours, theirs = exported.run(texts()), model.run(texts())
    assert (ours.embeddings * theirs.embeddings).sum(axis=1).min() >= 0.9999
    for name in model.tasks:
        np.testing.assert_allclose(ours.probabilities[name], theirs.probabilities[name], atol=1e-4)
    assert [{t: p.label for t, p in r.items()} for r in exported.predictions(ours)] == [
        {t: p.label for t, p in r.items()} for r in model.predictions(theirs)
    ]


def test_default_precision_is_the_plugins_and_stays_close_to_torch(trained, ov_export):  # noqa: F811
    model, _ = trained
    exported = load_model(ov_export, backend="openvino")
    described = exported.describe()
    assert described["backend"] == "openvino"
    assert described["precision"] == described["inference_precision"] in ("fp32", "bf16", "fp16")
    assert described["embedding"] == "base"
    ours, theirs = exported.run(texts()), model.run(texts())
    assert (ours.embeddings * theirs.embeddings).sum(axis=1).min() >= 0.999
    for name in model.tasks:
        assert np.mean(labels(ours)[name] == labels(theirs)[name]) >= 0.95, name
    # Batch size, order and streams do not change the answers beyond the precision's rounding.
    one = exported.encode(texts()[:6], batch_size=1)
    np.testing.assert_allclose(exported.encode(texts()[:6][::-1], batch_size=4)[::-1], one, atol=2e-2)
    # Bulk jobs: a stream per core, OpenVINO's THROUGHPUT mode; one stream (the server's) is its LATENCY mode.
    for streams, hint in ((2, "THROUGHPUT"), (1, "LATENCY")):
        other = OpenVinoModel.load(ov_export, streams=streams)
        assert str(other.compiled.get_property("PERFORMANCE_HINT")) == hint
        assert other.compiled.get_property("NUM_STREAMS") == streams
        assert (other.run(texts(), batch_size=4).embeddings * ours.embeddings).sum(axis=1).min() >= 0.999
    assert exported.run([]).embeddings.shape == (0, 384)


def test_static_int8_export_is_quantised_and_agrees_with_fp32(trained, ov_export, ov_int8_export):  # noqa: F811
    manifest = json.loads((ov_int8_export / "manifest.json").read_text())
    assert manifest["quantize"] == "int8-static" and manifest["static"]["calibration_texts"] == len(tiny_records()) + 1
    # Per block: Q, K, V, the attention's output projection and the FFN input projection; not the FFN output
    # projection, nor the heads.
    per_block = ["attention/self/query", "attention/self/key", "attention/self/value", "attention/output/dense"]
    per_block += ["intermediate/dense"]
    assert quantised_matmuls(ov_int8_export) == {f"/layer.{i}/{name}/MatMul" for i in range(6) for name in per_block}
    kept = manifest["static"]["kept_in_float"]
    assert {f"/layer.{i}/output/dense/MatMul" for i in range(6)} < set(kept)
    assert len(kept) == 6 + len(trained[0].tasks)  # and one per head

    static = OpenVinoModel.load(ov_int8_export)
    assert static.describe()["precision"] == "int8-static"
    ours = static.run(texts())
    reference = OpenVinoModel.load(ov_export, inference_precision="f32").run(texts())
    assert (ours.embeddings * reference.embeddings).sum(axis=1).min() >= INT8_MIN_COSINE
    for name in reference.probabilities:
        assert np.mean(labels(ours)[name] == labels(reference)[name]) >= INT8_MIN_AGREEMENT, name


def model_with_a_tuned_block(small_encoder_dir):
    """The tiny encoder with one tuned block on top, nudged: an exact copy of the top block would be merged with
    it on conversion."""
    import torch

    from mtst.encoder import SentenceEncoder
    from mtst.model import MultiTaskModel

    torch.manual_seed(0)
    model = MultiTaskModel(SentenceEncoder(small_encoder_dir, device="cpu"))
    model.encoder.add_tuned_branch(1)
    with torch.no_grad():
        for weight in model.encoder.tuned.parameters():
            weight.add_(0.01 * torch.randn_like(weight))
    return model


def test_static_int8_quantises_the_tuned_branch_too(small_encoder_dir, tmp_path):
    """A model with a tuned branch: its blocks (/blocks.N/) are quantised like the trunk's (/layer.N/)."""
    from mtst.openvino_export import export_openvino

    model = model_with_a_tuned_block(small_encoder_dir)
    folder = export_openvino(model.save(tmp_path / "model"), tmp_path / "int8", quantize="int8-static")
    quantised = quantised_matmuls(folder)
    assert "/blocks.0/intermediate/dense/MatMul" in quantised and "/layer.2/intermediate/dense/MatMul" in quantised
    assert not {name for name in quantised if "/output/dense/" in name and "/attention/" not in name}
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["branches"]["tuned_blocks"] == 1
    assert "/blocks.0/output/dense/MatMul" in manifest["static"]["kept_in_float"]


def test_predictions_run_without_the_base_branch_and_answer_the_same(small_encoder_dir, tmp_path):
    """Labels alone (mtst predict) run a graph that drops the served embedding's blocks, with equal answers."""
    from mtst.openvino_export import export_openvino

    model = model_with_a_tuned_block(small_encoder_dir)
    folder = export_openvino(model.save(tmp_path / "model"), tmp_path / "ov")
    exported = OpenVinoModel.load(folder, inference_precision="f32")  # bf16 would round the two graphs apart
    whole = {op.get_friendly_name() for op in exported.compiled.get_runtime_model().get_ops()}
    labels = {op.get_friendly_name() for op in exported.compiled_labels.get_runtime_model().get_ops()}
    assert len(labels) < len(whole)
    both, alone = exported.run(texts()), exported.run(texts(), embeddings=False)
    assert alone.embeddings is None
    for name in model.tasks:
        np.testing.assert_allclose(alone.probabilities[name], both.probabilities[name], atol=1e-5)


def test_cli_predicts_with_the_openvino_backend(ov_export, tmp_path):
    texts_file = tmp_path / "in.txt"
    texts_file.write_text("huggies size 4\nHappy Friday everyone!\n")
    out = tmp_path / "out.jsonl"
    result = CliRunner().invoke(
        app,
        ["predict", "--model", str(ov_export), "--backend", "openvino", "--input", str(texts_file),
         "--output", str(out)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["text"] for r in rows] == ["huggies size 4", "Happy Friday everyone!"]
    assert rows[0]["query_intent"]["label"] == "brand_search"


def test_server_takes_the_openvino_backend(ov_export):
    from fastapi.testclient import TestClient

    from mtst.server import ServerSettings, create_app

    with pytest.raises(MtstError, match="torch backend only"):
        ServerSettings(model=ov_export, backend="openvino", precision="bf16")
    with TestClient(create_app(ServerSettings(model=ov_export, backend="openvino"))) as client:
        wait_ready(client)  # the model loads in the background
        info = client.get("/info").json()
        assert info["backend"] == "openvino" and info["precision"] in ("fp32", "bf16", "fp16")
        answer = client.post("/v1/predict", json={"texts": ["huggies size 4"]}).json()
    assert answer["results"][0]["predictions"]["query_intent"]["label"] == "brand_search"


def test_openvino_backend_never_imports_torch(ov_export):
    assert predict_in_fresh_process(ov_export, "openvino") == ["brand_search", "[]"]


def test_wrong_folders_and_options_are_clear_errors(trained, ov_export, tmp_path, monkeypatch):  # noqa: F811
    from mtst.openvino_export import export_openvino

    with pytest.raises(MtstError, match="does not exist"):
        OpenVinoModel.load(tmp_path / "none")
    with pytest.raises(MtstError, match="not an OpenVINO export"):
        OpenVinoModel.load(tmp_path)
    with pytest.raises(MtstError, match="--backend openvino"):
        OnnxModel.load(ov_export)  # an OpenVINO folder opened as ONNX says which backend opens it
    broken = tmp_path / "broken"
    shutil.copytree(ov_export, broken)
    (broken / "model.xml").write_text("<net>")
    with pytest.raises(MtstError, match="could not load the OpenVINO model"):
        OpenVinoModel.load(broken)
    with pytest.raises(MtstError, match="dynamic int8 is onnxruntime's"):
        export_openvino(trained[1], tmp_path / "out", quantize="int8")
    with pytest.raises(MtstError, match="unknown runtime"):
        raise (
            CliRunner()
            .invoke(app, ["export", "--model", str(trained[1]), "--output", str(tmp_path / "x"), "--runtime", "tvm"])
            .exception
        )
    with pytest.raises(MtstError, match="--device"):
        load_model(ov_export, backend="openvino", device="cuda")
    monkeypatch.setitem(sys.modules, "openvino", None)  # as if it were not installed: import fails
    with pytest.raises(MtstError, match=r"pip install 'mtst\[openvino\]'"):
        load_model(ov_export, backend="openvino")
