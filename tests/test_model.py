import json

import numpy as np
import pytest
import torch

from mtst.errors import MtstError
from mtst.model import MultiTaskModel
from mtst.tasks import DEFAULT_TASKS, TaskSpec

TEXTS = ["Earn 500 bonus points on any Tide purchase", "huggies size 4", "KROGER #0412\nMILK 3.49\nTOTAL 3.49"]


@pytest.fixture(scope="module")
def model(encoder):
    torch.manual_seed(0)
    return MultiTaskModel(encoder)


def test_default_tasks_follow_the_labelling_guide(model):
    assert list(model.tasks) == ["text_kind", "sentence_type", "receipt_quality", "query_intent"]
    assert model.tasks["receipt_quality"].labels == ("good_quality", "blurry", "incomplete")
    assert model.tasks["receipt_quality"].applies_when == {"text_kind": ("ocr_receipt",)}


def test_forward_returns_embedding_and_logits_by_task(model):
    batch = model.encoder.collate(model.encoder.tokenize(TEXTS)[0])
    embeddings, logits = model(**batch)
    assert embeddings.shape == (3, 384)
    assert {k: tuple(v.shape) for k, v in logits.items()} == {
        "text_kind": (3, 3),
        "sentence_type": (3, 5),
        "receipt_quality": (3, 3),
        "query_intent": (3, 4),
    }


def test_predict_gives_label_score_and_distribution(model):
    results = model.predict(TEXTS, tasks=["query_intent", "sentence_type"])
    assert len(results) == 3
    for result in results:
        assert set(result) == {"query_intent", "sentence_type"}
        for name, p in result.items():
            assert list(p.distribution) == list(model.tasks[name].labels)
            assert sum(p.distribution.values()) == pytest.approx(1.0, abs=1e-5)
            assert p.score == max(p.distribution.values())
            assert p.label == max(p.distribution, key=p.distribution.get)


def test_unknown_task_is_named(model):
    with pytest.raises(MtstError, match="nope.*sentence_type"):
        model.predict(TEXTS, tasks=["nope"])


def test_hidden_layer_head(encoder):
    spec = TaskSpec("topic", ("a", "b", "c"), hidden=64, dropout=0.2)
    m = MultiTaskModel(encoder, [spec])
    assert isinstance(m.heads["topic"], torch.nn.Sequential)
    assert m.predict(["hello"])[0]["topic"].label in spec.labels


def test_save_load_round_trip_gives_identical_logits(model, tmp_path):
    model.trained["sentence_type"] = True
    folder = model.save(
        tmp_path / "m",
        metrics={"split": "test", "tasks": {"sentence_type": {"accuracy": 0.5, "macro_f1": 0.4, "n": 10}}},
    )
    loaded = MultiTaskModel.load(folder)
    batch = model.encoder.collate(model.encoder.tokenize(TEXTS)[0])
    with torch.inference_mode():
        _, before = model(**batch)
        _, after = loaded(**batch)
    for name in before:
        assert torch.equal(before[name], after[name])
    assert loaded.trained == {
        "text_kind": False,
        "sentence_type": True,
        "receipt_quality": False,
        "query_intent": False,
    }
    card = (folder / "README.md").read_text()
    assert "| `sentence_type` | 0.5000 | 0.4000 | 10 |" in card
    tasks = json.loads((folder / "tasks.json").read_text())
    assert [t["name"] for t in tasks["tasks"]] == [t.name for t in DEFAULT_TASKS]
    model.trained["sentence_type"] = False


def test_saved_folder_opens_in_sentence_transformers(model, tmp_path):
    from sentence_transformers import SentenceTransformer

    folder = model.save(tmp_path / "st")
    st = SentenceTransformer(str(folder), device="cpu")
    np.testing.assert_allclose(st.encode(TEXTS, normalize_embeddings=True), model.encoder.encode(TEXTS), atol=1e-5)


def test_save_replaces_the_model_but_keeps_other_files(model, tmp_path):
    folder = tmp_path / "run"
    model.save(folder)
    (folder / "history.jsonl").write_text("{}\n")
    (folder / "heads.safetensors").write_bytes(b"stale")
    model.save(folder)
    assert (folder / "history.jsonl").read_text() == "{}\n"
    MultiTaskModel.load(folder)  # the stale heads were replaced
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_loading_a_folder_that_is_not_a_model_says_how_to_fix(tmp_path, model):
    with pytest.raises(MtstError, match="does not exist"):
        MultiTaskModel.load(tmp_path / "none")
    model.encoder.transformer.config.save_pretrained(tmp_path)
    with pytest.raises(MtstError, match="not an mtst model folder"):
        MultiTaskModel.load(tmp_path)
    (tmp_path / "tasks.json").write_text("{broken")
    with pytest.raises(MtstError, match="broken"):
        MultiTaskModel.load(tmp_path)


def test_bad_task_specs_are_refused():
    with pytest.raises(MtstError, match="at least two labels"):
        TaskSpec("solo", ("only",))
    with pytest.raises(MtstError, match="lower case"):
        TaskSpec("Bad Name", ("a", "b"))
    with pytest.raises(MtstError, match="twice"):
        TaskSpec("dup", ("a", "a"))
