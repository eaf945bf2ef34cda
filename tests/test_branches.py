"""Two branches: every model serves all-MiniLM-L6-v2's own embedding while its heads read tuned blocks."""

import copy
import json
import logging
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from conftest import tiny_records

from mtst.backend import Backend, load_model
from mtst.calibration import scaled_softmax
from mtst.encoder import mean_pool
from mtst.errors import MtstError
from mtst.model import MultiTaskModel
from mtst.tasks import DEFAULT_TASKS
from mtst.training import train

TEXTS = [r["text"] for r in tiny_records()[::4]] + ["¿Dónde están mis puntos? 🎉", "a"]


def config(tiny_data, **encoder) -> dict:
    from mtst.config import parse_config

    return parse_config(
        {
            "tasks": [{"name": t.name, "labels": list(t.labels), "lr": 0.05} for t in DEFAULT_TASKS],
            # A large encoder learning rate: the tuned blocks must move far enough to tell the branches apart.
            "encoder": {"max_length": 48, "lr": 1e-3, **encoder},
            "data": {"train": str(tiny_data["train"]), "dev": str(tiny_data["dev"])},
            "epochs": 1,
            "batch_size": 8,
            "seed": 3,
        }
    )


STRATEGIES = {
    "encoder": {"freeze": "encoder"},
    "top": {"freeze": "top", "top_layers": 2},
    "gradual": {"freeze": "gradual", "gradual": {"start": 3}},
    "none": {"freeze": "none"},
}
TUNED_BLOCKS = {"encoder": 0, "top": 2, "gradual": 3, "none": 6}


@pytest.fixture(scope="module")
def trained(tiny_data, tmp_path_factory):
    """One tiny run (1 epoch) per freezing strategy, saved and loaded back."""
    folders = {}
    for name, encoder in STRATEGIES.items():
        folders[name] = tmp_path_factory.mktemp(name)
        train(config(tiny_data, **encoder), folders[name], quiet=True)
    return folders


def single_encoder_probabilities(model: MultiTaskModel, texts: list[str]) -> dict[str, np.ndarray]:
    """The heads' answers computed the pre-branch way: ONE encoder whose top blocks are the tuned ones."""
    enc = model.encoder
    merged = copy.deepcopy(enc.transformer)
    if enc.tuned is not None:
        if enc.tuned.embeddings is not None:
            merged.embeddings.load_state_dict(enc.tuned.embeddings.state_dict())
        for block, tuned in zip(merged.encoder.layer[enc.split :], enc.tuned.blocks, strict=True):
            block.load_state_dict(tuned.state_dict())
    batch = enc.collate(enc.tokenize(texts)[0])
    with torch.inference_mode():
        hidden = merged(**batch).last_hidden_state
        features = F.normalize(mean_pool(hidden, batch["attention_mask"]), dim=1)
        # with each head's fitted temperature, as the model applies it
        logits = {n: head(features).numpy() for n, head in model.heads.items()}
        return {n: scaled_softmax(value, model.tasks[n].temperature) for n, value in logits.items()}


@pytest.mark.parametrize("strategy", list(STRATEGIES))
def test_every_strategy_serves_the_base_embedding_and_keeps_its_heads(trained, strategy, reference):
    model = MultiTaskModel.load(trained[strategy])
    enc = model.encoder
    assert (0 if enc.tuned is None else len(enc.tuned.blocks)) == TUNED_BLOCKS[strategy]
    assert (enc.tuned is not None and enc.tuned.embeddings is not None) == (strategy == "none")
    expected = reference.encode(TEXTS, normalize_embeddings=True)
    outputs = model.run(TEXTS)
    # The served embedding, from the same pass as the heads, and from encode: all-MiniLM-L6-v2's own.
    np.testing.assert_allclose(outputs.embeddings, expected, atol=1e-5)
    np.testing.assert_allclose(enc.encode(TEXTS), expected, atol=1e-5)
    assert (outputs.embeddings * expected).sum(axis=1).min() >= 0.99999
    # The heads answer exactly as one encoder with the tuned blocks would.
    for name, probs in single_encoder_probabilities(model, TEXTS).items():
        np.testing.assert_allclose(outputs.probabilities[name], probs, atol=1e-5)
    if strategy != "encoder":  # the tuned branch really moved: the heads read something else
        assert np.abs(enc.encode_features(TEXTS) - expected).max() > 1e-3
    # Labels only (predict): the same answers, and the base branch's top block never runs when it is not shared.
    top_base_block = enc.base_blocks()[-1]
    runs = []
    hook = top_base_block.register_forward_hook(lambda *_: runs.append(1))
    try:
        labels_only = model.run(TEXTS, embeddings=False)
    finally:
        hook.remove()
    assert labels_only.embeddings is None
    assert bool(runs) == (strategy == "encoder")  # heads only: the one branch is the base one
    for name, probs in outputs.probabilities.items():
        np.testing.assert_allclose(labels_only.probabilities[name], probs, atol=1e-6)
    # The base encoder folder is still exactly all-MiniLM-L6-v2: sentence-transformers opens it as such.
    from sentence_transformers import SentenceTransformer

    st = SentenceTransformer(str(trained[strategy]), device="cpu")
    np.testing.assert_allclose(st.encode(TEXTS, normalize_embeddings=True), expected, atol=1e-5)
    card = (trained[strategy] / "README.md").read_text()
    assert "Served embedding: **base**" in card
    if strategy == "none":
        assert "2x the encoder alone" in card


def test_cli_and_backend_serve_the_base_embedding(trained, reference, tmp_path):
    from typer.testing import CliRunner

    from mtst.cli import app

    out = tmp_path / "vectors.npy"
    result = CliRunner().invoke(app, ["embed", "--model", str(trained["top"]), "--output", str(out), *TEXTS])
    assert result.exit_code == 0, result.output
    np.testing.assert_allclose(np.load(out), reference.encode(TEXTS, normalize_embeddings=True), atol=1e-5)
    model = load_model(trained["top"])
    assert isinstance(model, Backend)
    described = model.describe()
    assert described["embedding"] == "base" and described["tuned_blocks"] == 2
    assert described["stages"]["trunk"] == "embeddings + blocks 0-3"

    # The server: /v1/embeddings and /v1/predict's return_embedding serve the base embedding, and /info says so.
    import time

    from fastapi.testclient import TestClient

    from mtst.server import ServerSettings, create_app

    expected = reference.encode(TEXTS, normalize_embeddings=True)
    with TestClient(create_app(ServerSettings(model=trained["top"]), model=model)) as client:
        deadline = time.monotonic() + 60
        while client.get("/health").status_code != 200:
            assert time.monotonic() < deadline
            time.sleep(0.05)
        served = client.post("/v1/embeddings", json={"input": TEXTS}).json()["data"]
        predicted = client.post("/v1/predict", json={"texts": TEXTS, "return_embedding": True}).json()["results"]
        info = client.get("/info").json()["embedding"]
    np.testing.assert_allclose(np.array([d["embedding"] for d in served]), expected, atol=1e-5)
    np.testing.assert_allclose(np.array([r["embedding"] for r in predicted]), expected, atol=1e-5)
    assert info["served"] == "base" and info["tuned_blocks"] == 2 and info["stsb_spearman_x100"] is None


def test_legacy_folders_load_with_unchanged_heads(trained, reference, tmp_path, caplog):
    """A folder saved before branches (one encoder, top blocks tuned) is split back into the two branches."""
    model = MultiTaskModel.load(trained["top"])
    before = model.run(TEXTS)
    folder = tmp_path / "legacy"
    model.save(folder)
    merged = copy.deepcopy(model.encoder.transformer)
    for block, tuned in zip(merged.encoder.layer[4:], model.encoder.tuned.blocks, strict=True):
        block.load_state_dict(tuned.state_dict())
    merged.save_pretrained(folder)
    (folder / "branch.json").unlink()
    (folder / "tuned_branch.safetensors").unlink()
    legacy = MultiTaskModel.load(folder)
    assert len(legacy.encoder.tuned.blocks) == 2 and legacy.encoder.embedding == "base"
    after = legacy.run(TEXTS)
    np.testing.assert_allclose(after.embeddings, reference.encode(TEXTS, normalize_embeddings=True), atol=1e-5)
    for name in before.probabilities:
        np.testing.assert_allclose(after.probabilities[name], before.probabilities[name], atol=1e-5)

    # A whole encoder tuned (its embeddings layer moved): the base is gone; its own embedding is served, flagged.
    with torch.no_grad():
        merged.embeddings.word_embeddings.weight.mul_(1.01)
    merged.save_pretrained(folder)
    with caplog.at_level(logging.WARNING, logger="mtst"):
        whole = MultiTaskModel.load(folder)
    assert whole.encoder.embedding == "tuned" and whole.encoder.tuned is None
    assert any("tuned embedding" in r.getMessage() for r in caplog.records)
    assert whole.describe()["embedding"] == "tuned"


def test_a_tuned_embedding_is_said_with_its_stsb(tiny_data, tmp_path, small_encoder_dir):
    from fastapi.testclient import TestClient

    from mtst.server import ServerSettings, create_app
    from mtst.stsb import stsb_folder

    cfg = config(tiny_data, freeze="top", top_layers=1, path=str(small_encoder_dir), embedding="tuned")
    train(cfg, tmp_path / "run", quiet=True)
    model = MultiTaskModel.load(tmp_path / "run")
    enc = model.encoder
    assert enc.embedding == "tuned"
    np.testing.assert_allclose(enc.encode(TEXTS), enc.encode_features(TEXTS), atol=1e-6)
    branch = json.loads((tmp_path / "run" / "branch.json").read_text())
    card = (tmp_path / "run" / "README.md").read_text()
    assert "Served embedding: **tuned**" in card and "NOT the original" in card
    if stsb_folder() is None:
        assert branch["stsb"] is None and "STS-B: not measured" in card
    else:  # measured on the whole STS-B test split when the model was saved
        assert branch["stsb"]["pairs"] == 1379 and -100 <= branch["stsb"]["spearman_x100"] <= 100
        assert f"{branch['stsb']['spearman_x100']:.2f}" in card
    with TestClient(create_app(ServerSettings(model=tmp_path / "run"), model=model)) as client:
        import time

        deadline = time.monotonic() + 60
        while client.get("/health").status_code != 200:
            assert time.monotonic() < deadline
            time.sleep(0.05)
        info = client.get("/info").json()["embedding"]
    assert info["served"] == "tuned" and "TUNED" in info["description"]
    assert info["stsb_spearman_x100"] == (branch["stsb"] or {}).get("spearman_x100")


def test_tuned_embedding_needs_tuned_blocks(tiny_data):
    with pytest.raises(MtstError, match="needs tuned blocks"):
        config(tiny_data, freeze="encoder", embedding="tuned")


def test_cached_and_uncached_passes_autocast_alike(small_encoder_dir):
    """bf16 autocast covers the trunk as well as the branches: the trainer's cached trunk gives the same
    features as a whole pass (before, hidden_below ran in fp32 and forward_from in bf16)."""
    from mtst.encoder import SentenceEncoder

    enc = SentenceEncoder(small_encoder_dir, device="cpu")
    enc.add_tuned_branch(1)
    torch.manual_seed(0)
    with torch.no_grad():
        for p in enc.tuned.parameters():
            p.add_(0.05 * torch.randn_like(p))
    enc.precision = "bf16"  # forced: CPU autocast runs bf16 even where it is not native
    batch = enc.collate(enc.tokenize(TEXTS)[0])
    with torch.inference_mode():
        embedding, features = enc.forward_both(**batch)
        cached = enc.hidden_below(enc.split, **batch).clone()
        from_cache = enc.forward_from(enc.split, cached, batch["attention_mask"])
        enc.precision = "fp32"
        fp32_embedding, fp32_features = enc.forward_both(**batch)
    torch.testing.assert_close(from_cache, features, atol=1e-6, rtol=0)
    assert (embedding * fp32_embedding).sum(1).min() > 0.99 and (features * fp32_features).sum(1).min() > 0.99
    assert (features - embedding).abs().max() > 1e-3  # bf16 carries both branches, still apart


# --- export ------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def two_branch_export(trained, tmp_path_factory):
    from mtst.export import export_onnx

    return export_onnx(trained["top"], tmp_path_factory.mktemp("onnx") / "top")


def test_onnx_export_carries_both_branches_in_one_graph(trained, two_branch_export, reference):
    torch_model = load_model(trained["top"])
    onnx_model = load_model(two_branch_export, backend="onnx")
    assert isinstance(onnx_model, Backend)
    manifest = json.loads((two_branch_export / "manifest.json").read_text())
    assert manifest["branches"]["tuned_blocks"] == 2 and manifest["branches"]["embedding"] == "base"
    assert manifest["fusions"]["Attention"] == 6 + 2  # every block of both branches fused
    ours, theirs = onnx_model.run(TEXTS), torch_model.run(TEXTS)
    np.testing.assert_allclose(ours.embeddings, reference.encode(TEXTS, normalize_embeddings=True), atol=1e-5)
    labels_only = onnx_model.run(TEXTS, embeddings=False)
    assert labels_only.embeddings is None
    for name in theirs.probabilities:
        np.testing.assert_allclose(ours.probabilities[name], theirs.probabilities[name], atol=1e-4)
        np.testing.assert_allclose(labels_only.probabilities[name], ours.probabilities[name], atol=1e-6)
    assert onnx_model.describe()["embedding"] == "base"


def test_a_failed_parity_check_leaves_the_previous_export(trained, two_branch_export, monkeypatch):
    import mtst.export
    from mtst.export import export_onnx

    before = {p.name: p.read_bytes() for p in two_branch_export.iterdir() if p.name != "model.onnx.data"}

    def broken(model, exported, texts):
        return {"max_abs_diff_embeddings": 1.0, "max_abs_diff_logits": 1.0}

    monkeypatch.setattr(mtst.export, "compare", broken)
    with pytest.raises(MtstError, match="differs from the torch model"):
        export_onnx(trained["top"], two_branch_export)
    assert {p.name: p.read_bytes() for p in two_branch_export.iterdir() if p.name != "model.onnx.data"} == before
    fresh = two_branch_export.parent / "fresh"
    with pytest.raises(MtstError, match="differs from the torch model"):
        export_onnx(trained["top"], fresh)
    assert not fresh.exists()
    assert not [p for p in two_branch_export.parent.iterdir() if p.name.startswith(".")]


# --- saving never leaves a folder without a model ------------------------------------------------------


def test_a_crash_mid_save_leaves_the_previous_model(trained, tmp_path, monkeypatch):
    import mtst.model

    model = MultiTaskModel.load(trained["top"])
    folder = tmp_path / "m"
    model.save(folder)
    (folder / "history.jsonl").write_text("{}\n")
    expected = model.run(TEXTS).probabilities
    with torch.no_grad():
        for head in model.heads.values():
            head.weight.add_(1.0)

    def crash(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(mtst.model, "save_branch", crash)  # dies after the encoder is written, before the rest
    with pytest.raises(OSError, match="disk full"):
        model.save(folder)
    monkeypatch.undo()
    reloaded = MultiTaskModel.load(folder).run(TEXTS).probabilities
    for name, probs in expected.items():
        np.testing.assert_allclose(reloaded[name], probs, atol=1e-6)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


@pytest.mark.parametrize("atomic", [True, False])
def test_the_folder_holds_a_model_at_every_step_of_the_swap(trained, tmp_path, monkeypatch, atomic):
    """The new model is exchanged with the old in one step; a crash while the old one is cleared up after
    still leaves the new model whole (and, where no atomic exchange exists, the fallback ends the same)."""
    import mtst.folders

    model = MultiTaskModel.load(trained["top"])
    folder = tmp_path / "m"
    model.save(folder)
    (folder / "history.jsonl").write_text("{}\n")
    seen = []
    real_exchange = mtst.folders.exchange

    def watched_exchange(a, b):
        seen.append((folder / "heads.safetensors").is_file())
        return real_exchange(a, b) if atomic else False

    monkeypatch.setattr(mtst.folders, "exchange", watched_exchange)
    model.save(folder)
    assert seen == [True]
    assert (folder / "history.jsonl").read_text() == "{}\n"
    MultiTaskModel.load(folder)

    real_rmtree = mtst.folders.shutil.rmtree

    def crash(path, ignore_errors=False):
        if Path(path).exists():  # clearing the old model up, just after the swap: killed there
            raise KeyboardInterrupt
        real_rmtree(path, ignore_errors=ignore_errors)

    monkeypatch.setattr(mtst.folders.shutil, "rmtree", crash)
    with pytest.raises(KeyboardInterrupt):
        model.save(folder)
    np.testing.assert_allclose(MultiTaskModel.load(folder).run(TEXTS).embeddings, model.run(TEXTS).embeddings)


# --- CPU threads are the caller's ---------------------------------------------------------------------


def test_thread_policy(monkeypatch, small_encoder_dir):
    from mtst.encoder import SentenceEncoder
    from mtst.streams import available_cores, policy_threads

    before = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        SentenceEncoder(small_encoder_dir, device="cpu")
        assert torch.get_num_threads() == 1  # the library never overrides the caller
        monkeypatch.delenv("LOCAL_WORLD_SIZE", raising=False)
        monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
        assert policy_threads() == available_cores()
        monkeypatch.setenv("OMP_NUM_THREADS", "3")
        assert policy_threads() == 3
        # torchrun: each rank its share of the cores, whatever OMP_NUM_THREADS torchrun put there
        monkeypatch.setenv("LOCAL_WORLD_SIZE", "2")
        monkeypatch.setenv("OMP_NUM_THREADS", "1")
        assert policy_threads() == max(1, available_cores() // 2)
        # The CLI applies the policy at its entry point.
        from typer.testing import CliRunner

        from mtst.cli import app

        monkeypatch.setenv("LOCAL_WORLD_SIZE", "1")
        monkeypatch.setenv("OMP_NUM_THREADS", "2")
        torch.set_num_threads(1)
        result = CliRunner().invoke(app, ["embed", "--model", str(small_encoder_dir), "hi"])
        assert result.exit_code == 0, result.output
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)
