"""ONNX export and the torch-free ONNX backend: same numbers as torch, same labels, no torch import."""

import json
import subprocess
import sys
from dataclasses import replace

import numpy as np
import pytest
import torch
from conftest import ROOT, predict_in_fresh_process, tiny_records
from typer.testing import CliRunner

from mtst.errors import MtstError
from mtst.model import MultiTaskModel
from mtst.tasks import read_task_file

# int8 weights move embeddings a little. On the tiny set, with heads trained on it, we measured at least
# 98.5% label agreement per task and a minimum cosine of 0.987 against fp32 torch (AVX2 CPU); the floors
# leave room for other CPUs' int8 kernels, which round differently.
INT8_MIN_AGREEMENT = 0.9
INT8_MIN_COSINE = 0.97

EXTRA_TEXTS = [
    "¿Dónde están mis puntos? 我的积分在哪里？ 🎉",
    "a",
    "receipt points scan store milk bread coupon reward " * 40,  # past the 256-token limit
]


def fit_heads(model: MultiTaskModel, records: list[dict]) -> None:
    """Train each head on the tiny set's frozen embeddings: real decision boundaries in a few seconds."""
    embeddings = torch.from_numpy(model.encoder.encode([r["text"] for r in records]))
    torch.manual_seed(0)
    for name, spec in model.tasks.items():
        rows = [i for i, r in enumerate(records) if name in r]
        target = torch.tensor([spec.index(records[i][name]) for i in rows])
        head = model.heads[name]
        optimiser = torch.optim.Adam(head.parameters(), lr=0.05)
        for _ in range(150):
            optimiser.zero_grad()
            torch.nn.functional.cross_entropy(head(embeddings[rows]), target).backward()
            optimiser.step()
        model.trained[name] = True


@pytest.fixture(scope="module")
def trained(encoder, tmp_path_factory):
    model = MultiTaskModel(encoder)
    fit_heads(model, tiny_records())
    # A fitted temperature travels in tasks.json; the ONNX backend must apply it as torch does.
    model.tasks["sentence_type"] = replace(model.tasks["sentence_type"], temperature=2.5)
    return model, model.save(tmp_path_factory.mktemp("export") / "model")


@pytest.fixture(scope="module")
def fp32_export(trained, tmp_path_factory):
    from mtst.export import export_onnx

    return export_onnx(trained[1], tmp_path_factory.mktemp("onnx") / "fp32")


@pytest.fixture(scope="module")
def int8_export(trained, tmp_path_factory):
    from mtst.export import export_onnx

    return export_onnx(trained[1], tmp_path_factory.mktemp("onnx") / "int8", quantize="int8")


def texts() -> list[str]:
    return [r["text"] for r in tiny_records()] + EXTRA_TEXTS


def test_export_folder_holds_graph_tokenizer_tasks_and_manifest(trained, fp32_export):
    import onnx

    model, _ = trained
    files = {p.name for p in fp32_export.iterdir()}
    assert {"model.onnx", "model.onnx.data", "tokenizer.json", "tasks.json", "manifest.json"} <= files
    task_file = read_task_file(fp32_export / "tasks.json")
    assert task_file.tasks == list(model.tasks.values())
    assert task_file.trained == model.trained
    graph = onnx.load(str(fp32_export / "model.onnx")).graph
    assert [i.name for i in graph.input] == ["input_ids", "attention_mask"]
    assert [o.name for o in graph.output] == ["embeddings"] + [f"logits_{n}" for n in model.tasks]
    # batch and sequence are symbolic: any number of texts of any length runs through the one graph
    shape = graph.input[0].type.tensor_type.shape.dim
    assert all(d.dim_param and not d.dim_value for d in shape)
    manifest = json.loads((fp32_export / "manifest.json").read_text())
    assert manifest["quantize"] is None
    assert manifest["fusions"]["Attention"] == model.encoder.num_layers  # onnxruntime fused every layer


def test_fp32_export_matches_torch(trained, fp32_export):
    from mtst.onnx_backend import OnnxModel

    model, _ = trained
    onnx_model = OnnxModel.load(fp32_export)
    ours, theirs = onnx_model.run(texts()), model.run(texts())
    np.testing.assert_allclose(ours.embeddings, theirs.embeddings, atol=1e-4)
    for name in model.tasks:
        np.testing.assert_allclose(ours.probabilities[name], theirs.probabilities[name], atol=1e-4)
    assert [{t: p.label for t, p in r.items()} for r in onnx_model.predictions(ours)] == [
        {t: p.label for t, p in r.items()} for r in model.predictions(theirs)
    ]


def test_onnx_backend_answers_like_the_torch_model(trained, fp32_export, caplog):
    from mtst.onnx_backend import OnnxModel

    model, _ = trained
    onnx_model = OnnxModel.load(fp32_export)
    assert onnx_model.tasks == model.tasks
    assert onnx_model.trained == model.trained
    assert onnx_model.token_counts(texts()) == model.token_counts(texts())  # same truncation to 256
    with caplog.at_level("WARNING", logger="mtst"):
        onnx_model.run(EXTRA_TEXTS)
    assert any("1 of 3 texts" in r.getMessage() for r in caplog.records)
    result = onnx_model.predict(["huggies size 4", "Happy Friday everyone!"], tasks=["query_intent"], batch_size=1)
    assert [set(r) for r in result] == [{"query_intent"}] * 2
    p = result[0]["query_intent"]
    assert p.label == "brand_search" and p.score == max(p.distribution.values())
    assert sum(p.distribution.values()) == pytest.approx(1.0, abs=1e-5)
    # Batch size and order do not change an embedding.
    single = onnx_model.encode(texts()[:5], batch_size=1)
    np.testing.assert_allclose(onnx_model.encode(texts()[:5][::-1], batch_size=4)[::-1], single, atol=1e-5)
    assert onnx_model.run([]).embeddings.shape == (0, 384)
    with pytest.raises(MtstError, match="nope"):
        onnx_model.predict(["x"], tasks=["nope"])
    with pytest.raises(MtstError, match="position 1"):
        onnx_model.predict(["fine", "  "])


def test_onnx_streams_give_the_same_answers(fp32_export):
    from mtst.onnx_backend import OnnxModel
    from mtst.streams import available_cores

    one = OnnxModel.load(fp32_export, streams=1)
    two = OnnxModel.load(fp32_export, streams=2)
    assert (one.threads, two.threads) == (available_cores(), max(1, available_cores() // 2))
    expected = one.run(texts(), batch_size=4)
    got = two.run(texts(), batch_size=4)
    np.testing.assert_allclose(got.embeddings, expected.embeddings, atol=1e-6)
    for task in expected.probabilities:
        np.testing.assert_allclose(got.probabilities[task], expected.probabilities[task], atol=1e-6)
    with pytest.raises(MtstError, match="streams must be a whole number"):
        OnnxModel.load(fp32_export, streams=0)


def test_int8_export_agrees_with_fp32(trained, int8_export, fp32_export):
    from mtst.onnx_backend import OnnxModel

    model, _ = trained
    quantized = OnnxModel.load(int8_export)
    ours, theirs = quantized.run(texts()), model.run(texts())
    cosine = (ours.embeddings * theirs.embeddings).sum(axis=1)
    assert cosine.min() >= INT8_MIN_COSINE
    for name in model.tasks:
        agreement = (ours.probabilities[name].argmax(1) == theirs.probabilities[name].argmax(1)).mean()
        assert agreement >= INT8_MIN_AGREEMENT, name
    manifest = json.loads((int8_export / "manifest.json").read_text())
    assert manifest["quantize"] == "int8" and manifest["kept_fp32"]
    # int8 weights: the graph is much smaller (the fp32 word embeddings are most of what remains)
    assert weights_mb(int8_export) < 0.8 * weights_mb(fp32_export)


def weights_mb(folder) -> float:
    return sum(p.stat().st_size for p in folder.glob("model.onnx*")) / 2**20


def test_onnx_backend_never_imports_torch(fp32_export):
    assert predict_in_fresh_process(fp32_export, "onnx") == ["brand_search", "[]"]


def test_cli_onnx_backend_never_imports_torch(fp32_export, tmp_path):
    texts_file = tmp_path / "in.txt"
    texts_file.write_text("huggies size 4\n")
    out = tmp_path / "out.jsonl"
    argv = ["mtst", "predict", "--model", str(fp32_export), "--backend", "onnx", "--input", str(texts_file)]
    argv += ["--output", str(out)]
    code = (
        "import sys\n"
        f"sys.argv = {argv!r}\n"
        "from mtst.cli import main\n"
        "try:\n    main()\nexcept SystemExit as done:\n    assert not done.code, done.code\n"
        "print(sorted(k for k in ('torch', 'transformers', 'sentence_transformers') if k in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[]"
    assert json.loads(out.read_text())["query_intent"]["label"] == "brand_search"


def test_cli_predicts_with_the_onnx_backend(fp32_export, tmp_path):
    from mtst.cli import app

    texts_file = tmp_path / "in.txt"
    texts_file.write_text("huggies size 4\nHappy Friday everyone!\n")
    out = tmp_path / "out.jsonl"
    result = CliRunner().invoke(
        app,
        ["predict", "--model", str(fp32_export), "--backend", "onnx", "--input", str(texts_file), "--output", str(out)],
    )
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["text"] for r in rows] == ["huggies size 4", "Happy Friday everyone!"]
    assert rows[0]["query_intent"]["label"] == "brand_search"
    # Two streams answer the same; zero streams is a usage error.
    streamed = tmp_path / "streamed.jsonl"
    args = ["predict", "--model", str(fp32_export), "--backend", "onnx", "--input", str(texts_file)]
    result = CliRunner().invoke(app, [*args, "--output", str(streamed), "--streams", "2"])
    assert result.exit_code == 0, result.output
    for ours, theirs in zip(rows, map(json.loads, streamed.read_text().splitlines()), strict=True):
        assert ours["query_intent"]["label"] == theirs["query_intent"]["label"]
        assert ours["query_intent"]["score"] == pytest.approx(theirs["query_intent"]["score"], abs=1e-6)
    assert CliRunner().invoke(app, [*args, "--output", str(streamed), "--streams", "0"]).exit_code == 2
    refused = CliRunner().invoke(
        app, ["predict", "--model", str(fp32_export), "--backend", "onnx", "--precision", "bf16", "x"]
    )
    assert isinstance(refused.exception, MtstError)


def test_export_refuses_unknown_quantisation_and_missing_folders(tmp_path):
    from mtst.export import export_onnx
    from mtst.onnx_backend import OnnxModel

    with pytest.raises(MtstError, match="int8"):
        export_onnx(tmp_path, tmp_path / "out", quantize="int4")
    with pytest.raises(MtstError, match="does not exist"):
        OnnxModel.load(tmp_path / "none")
    with pytest.raises(MtstError, match="not an ONNX export"):
        OnnxModel.load(tmp_path)
