"""Trust features: fitted temperatures, confidence floors and heads that answer only where they apply."""

import json
import sys
from dataclasses import replace

import numpy as np
import pytest
from conftest import tiny_records, write_jsonl
from fastapi.testclient import TestClient

from mtst.abstention import choose_floor, risk_coverage, selective
from mtst.calibration import (
    brier_score,
    expected_calibration_error,
    fit_temperature,
    scaled_softmax,
    uncalibrated,
)
from mtst.config import parse_config
from mtst.errors import MtstError
from mtst.outputs import Outputs, to_predictions
from mtst.routing import check_applies_when, check_given, parse_given
from mtst.tasks import DEFAULT_TASKS, TaskSpec, read_task_file

# --- calibration on toys ---------------------------------------------------------------------------


def overconfident_toy(n: int = 4000, scale: float = 4.0, seed: int = 0):
    """Labels drawn from softmax(z), logits reported as scale * z: a head `scale` times too sure of itself."""
    rng = np.random.default_rng(seed)
    z = rng.normal(0, 1.5, size=(n, 4))
    p = scaled_softmax(z)
    gold = np.array([rng.choice(4, p=row / row.sum()) for row in p.astype(np.float64)])
    return scale * z, gold


def test_fitted_temperature_undoes_overconfidence_and_lowers_ece_and_brier():
    logits, gold = overconfident_toy()
    t = fit_temperature(logits, gold)
    assert t == pytest.approx(4.0, rel=0.15)  # the scale the toy was made with
    before, after = scaled_softmax(logits), scaled_softmax(logits, t)
    assert expected_calibration_error(after, gold) < expected_calibration_error(before, gold) / 3
    assert brier_score(after, gold) < brier_score(before, gold)
    assert (after.argmax(1) == before.argmax(1)).all()  # a temperature never changes the label
    np.testing.assert_allclose(uncalibrated(after, t), before, atol=1e-5)


def test_ece_and_brier_on_hand_worked_examples():
    p = np.array([[0.9, 0.1], [0.9, 0.1], [0.6, 0.4], [0.6, 0.4]])
    gold = np.array([0, 1, 0, 0])
    # bin 0.9: accuracy 0.5, gap 0.4; bin 0.6: accuracy 1.0, gap 0.4 -> ECE 0.4
    assert expected_calibration_error(p, gold) == pytest.approx(0.4)
    assert brier_score(p, gold) == pytest.approx((0.02 + 1.62 + 0.32 + 0.32) / 4)


# --- floors on toys --------------------------------------------------------------------------------


def test_floor_is_the_lowest_threshold_whose_answers_are_expected_to_reach_the_target_precision():
    confidence = np.array([0.99, 0.95, 0.9, 0.8, 0.7, 0.6, 0.5])
    # expected accuracy of the k most confident: 0.99, 0.97, 0.947, 0.91, 0.868, 0.823, 0.777
    assert choose_floor(confidence, 0.95) == 0.95
    assert choose_floor(confidence, 0.9) == 0.8
    assert choose_floor(confidence, 0.8) == 0.6
    assert choose_floor(confidence, 0.5) == 0.5  # every answer kept
    assert choose_floor(confidence[::-1], 0.9) == 0.8  # the order they come in does not matter
    assert choose_floor(confidence, 0.995) == 1.0  # unreachable: answer only when certain
    assert choose_floor(np.array([]), 0.9) is None
    correct = np.array([1, 1, 1, 1, 0, 1, 0], bool)
    kept = selective(confidence, correct, 0.6)
    assert kept == {"coverage": pytest.approx(6 / 7), "accuracy": pytest.approx(5 / 6), "n_answered": 6}


def test_a_floor_keeps_ties_together():
    # 0.99 alone reaches 0.97, but a floor of 0.91 keeps both: (0.99 + 0.91 + 0.91) / 3 = 0.937
    confidence = np.array([0.99, 0.91, 0.91, 0.6])
    assert choose_floor(confidence, 0.95) == 0.99
    assert choose_floor(confidence, 0.93) == 0.91
    curve = risk_coverage(np.array([0.9, 0.8, 0.7, 0.6]), np.array([1, 1, 0, 0], bool))
    assert curve[0]["coverage"] == 1.0 and curve[-1]["coverage"] == 0.25
    assert [p["accuracy"] for p in curve] == sorted(p["accuracy"] for p in curve)


# --- routing and abstention in predictions ---------------------------------------------------------

KIND = TaskSpec("kind", ("message", "query"))
TOPIC = TaskSpec("topic", ("a", "b"), applies_when={"kind": ("message",)}, floor=0.8)
SUB = TaskSpec("sub", ("x", "y"), applies_when={"topic": ("a",)})
TASKS = {"sub": SUB, "topic": TOPIC, "kind": KIND}  # out of dependency order on purpose


def toy_outputs() -> Outputs:
    return Outputs(
        np.zeros((3, 2), np.float32),
        {
            "kind": np.array([[0.9, 0.1], [0.2, 0.8], [0.7, 0.3]], np.float32),
            "topic": np.array([[0.95, 0.05], [0.9, 0.1], [0.6, 0.4]], np.float32),
            "sub": np.array([[0.3, 0.7], [0.3, 0.7], [0.3, 0.7]], np.float32),
        },
    )


def test_heads_that_do_not_apply_and_heads_under_their_floor_answer_none_with_their_distribution():
    trained = dict.fromkeys(TASKS, True)
    first, second, third = to_predictions(toy_outputs(), TASKS, trained=trained)
    assert (first["kind"].label, first["topic"].label, first["sub"].label) == ("message", "a", "y")
    assert second["topic"].label is None and second["topic"].applies is False  # a query: no topic
    assert second["topic"].distribution == pytest.approx({"a": 0.9, "b": 0.1})
    assert second["sub"].applies is False  # depends on a head that does not apply
    assert third["topic"].label is None and third["topic"].abstained and third["topic"].applies
    assert third["topic"].score == pytest.approx(0.6)
    assert third["sub"].applies  # an abstained router rules nothing out
    assert third["topic"].to_dict()["label"] is None and json.dumps(third["topic"].to_dict())


def test_given_labels_replace_predictions_and_route_per_text():
    trained = dict.fromkeys(TASKS, True)
    given = [{"kind": "query"}, {"kind": "message"}, {}]
    first, second, third = to_predictions(toy_outputs(), TASKS, given, trained)
    assert first["kind"].label == "query" and first["kind"].given and first["kind"].score == pytest.approx(0.1)
    assert first["topic"].applies is False
    assert second["topic"].label == "a" and second["kind"].given
    assert not third["kind"].given
    everyone = to_predictions(toy_outputs(), TASKS, {"kind": "query"}, trained)
    assert all(not row["topic"].applies for row in everyone)


def test_an_untrained_router_rules_nothing_out():
    first, second, _ = to_predictions(toy_outputs(), TASKS, trained={"kind": False, "topic": True, "sub": True})
    assert second["topic"].applies and second["topic"].label == "a"


@pytest.mark.parametrize(
    ("given", "words"),
    [
        ({"ghost": "x"}, "unknown task 'ghost'"),
        ({"kind": "poem"}, "'poem' is not one of kind's labels"),
        ([{"kind": "query"}], "1 entries for 3 texts"),
        ("kind=query", "must be a dict"),
        ([{"kind": "query"}, 3, {}], r"given\[1\] must be a dict"),
    ],
)
def test_bad_given_is_refused_with_what_to_fix(given, words):
    with pytest.raises(MtstError, match=words):
        check_given(given, 3, TASKS)
    with pytest.raises(MtstError, match="task=label"):
        parse_given(["text_kind"])


@pytest.mark.parametrize(
    ("specs", "words"),
    [
        ([KIND, TaskSpec("t", ("a", "b"), applies_when={"ghost": ("x",)})], "unknown task 'ghost'"),
        ([KIND, TaskSpec("t", ("a", "b"), applies_when={"kind": ("poem",)})], "'poem', not one of kind's labels"),
        (
            [
                TaskSpec("p", ("a", "b"), applies_when={"q": ("a",)}),
                TaskSpec("q", ("a", "b"), applies_when={"p": ("a",)}),
            ],
            "cycle: p -> q -> p",
        ),
        ([TaskSpec("p", ("a", "b"), applies_when={"p": ("a",)})], "the task itself"),
    ],
)
def test_bad_applies_when_is_refused(specs, words):
    with pytest.raises(MtstError, match=words):
        check_applies_when(specs)


def test_config_checks_applies_when_and_reads_abstain_targets(tiny_data):
    base = {
        "tasks": [
            {"name": "kind", "labels": ["message", "query"]},
            {"name": "topic", "labels": ["a", "b"], "applies_when": {"kind": ["message"]}},
            {"name": "other", "labels": ["a", "b"], "abstain": {"precision": None}},
            {"name": "strict", "labels": ["a", "b"], "abstain": {"precision": 0.99}},
        ],
        "data": {"train": str(tiny_data["train"])},
        "abstain": {"precision": 0.9},
    }
    cfg = parse_config(base)
    assert cfg.specs()[1].applies_when == {"kind": ("message",)}
    assert cfg.abstain_precision() == {"kind": 0.9, "topic": 0.9, "other": None, "strict": 0.99}
    base["tasks"][1]["applies_when"] = {"kind": ["poem"]}
    with pytest.raises(MtstError, match="bad training config: .*'poem'"):
        parse_config(base)


def test_old_task_files_load_with_temperature_one_and_no_floor(tmp_path):
    path = tmp_path / "tasks.json"
    path.write_text(json.dumps({"tasks": [{"name": "t", "labels": ["a", "b"], "trained": True}]}))
    (spec,) = read_task_file(path).tasks
    assert (spec.temperature, spec.floor, spec.applies_when) == (1.0, None, None)


# --- a real model: saved temperatures, training, evaluate, CLI and server --------------------------


def test_saved_temperature_round_trips_and_changes_the_probabilities(encoder, tmp_path):
    import torch

    from mtst.model import MultiTaskModel

    torch.manual_seed(0)
    model = MultiTaskModel(encoder, DEFAULT_TASKS)
    texts = ["huggies size 4 coupon", "Someone redeemed my points"]
    raw = model.run(texts).probabilities["sentence_type"]
    model.tasks["sentence_type"] = replace(model.tasks["sentence_type"], temperature=0.25, floor=0.5)
    model.save(tmp_path / "m")
    loaded = MultiTaskModel.load(tmp_path / "m")
    assert loaded.tasks["sentence_type"].temperature == 0.25 and loaded.tasks["sentence_type"].floor == 0.5
    assert loaded.tasks["query_intent"].applies_when == {"text_kind": ("search_query",)}
    sharper = loaded.run(texts).probabilities["sentence_type"]
    np.testing.assert_allclose(sharper, scaled_softmax(np.log(raw), 0.25), atol=1e-4)
    assert (sharper.max(1) > raw.max(1)).all()


@pytest.fixture(scope="module")
def trust_run(tiny_data, tmp_path_factory):
    from mtst.training import train

    out = tmp_path_factory.mktemp("trust-run")
    cfg = {
        "tasks": [{**t.to_dict(), "lr": 0.1} for t in DEFAULT_TASKS],
        "encoder": {"freeze": "encoder", "max_length": 48},
        "data": {"train": str(tiny_data["train"]), "dev": str(tiny_data["dev"]), "test": str(tiny_data["dev"])},
        "abstain": {"precision": 0.9},
        "epochs": 6,
        "batch_size": 8,
        "seed": 3,
    }
    for t in cfg["tasks"]:
        for key in ("temperature", "floor"):
            del t[key]
    cfg["tasks"][0]["abstain"] = {"precision": None}  # the router always answers, so it always routes
    return out, train(parse_config(cfg), out, quiet=True)


def test_a_run_fits_and_saves_temperatures_and_floors_and_reports_them(trust_run, tiny_data):
    from mtst.model import MultiTaskModel

    out, metrics = trust_run
    specs = {t.name: t for t in read_task_file(out / "tasks.json").tasks}
    for split in ("dev", "test"):
        for name in specs:
            calibration = metrics[split]["tasks"][name]["calibration"]
            assert {"ece_before", "ece_after", "brier_before", "brier_after"} <= set(calibration)
            assert calibration["temperature"] == specs[name].temperature
    dev = metrics["dev"]["tasks"]
    for name, spec in specs.items():
        assert spec.temperature != 1.0
        # the fitted temperature minimises dev NLL (ECE on a dev set this small is too noisy to promise)
        assert dev[name]["calibration"]["nll_after"] <= dev[name]["calibration"]["nll_before"] + 1e-6
    assert specs["text_kind"].floor is None and dev["text_kind"]["abstention"]["coverage"] == 1.0
    # each floor is the lowest at which the dev answers kept are expected (by their calibrated confidence) to
    # reach the target precision; 1.0 where nothing reaches it
    model = MultiTaskModel.load(out)
    records = [json.loads(line) for line in tiny_data["dev"].read_text().splitlines()]
    for name in ("sentence_type", "receipt_quality", "query_intent"):
        texts = [r["text"] for r in records if name in r]
        confidence = np.sort([p[name].score for p in model.predict(texts)])[::-1]
        kept = confidence[confidence >= specs[name].floor - 1e-6]  # the floor is one of them, up to float32
        if specs[name].floor < 1.0:
            assert kept.mean() >= 0.9
            assert confidence[: len(kept) + 1].mean() < 0.9 or len(kept) == len(confidence)  # none lower would do
    assert specs["query_intent"].floor < 1.0 and dev["query_intent"]["abstention"]["coverage"] > 0
    assert (out / "reliability_query_intent.png").read_bytes()[:4] == b"\x89PNG"
    assert (out / "risk_coverage_query_intent.png").read_bytes()[:4] == b"\x89PNG"


def test_the_library_routes_by_predicted_and_given_kinds_and_abstains(trust_run):
    from mtst.model import MultiTaskModel

    model = MultiTaskModel.load(trust_run[0])
    query, message = "huggies size 4", "Someone logged into my account and redeemed all my points"
    by_model = model.predict([query, message])
    assert by_model[0]["text_kind"].label == "search_query"
    assert by_model[0]["query_intent"].applies and not by_model[0]["sentence_type"].applies
    assert by_model[0]["sentence_type"].label is None and len(by_model[0]["sentence_type"].distribution) == 5
    assert by_model[1]["text_kind"].label == "message" and not by_model[1]["query_intent"].applies
    told = model.predict([query, message], tasks=["sentence_type"], given={"text_kind": "message"})
    assert [set(r) for r in told] == [{"sentence_type"}] * 2  # text_kind ran for routing, not returned
    assert all(r["sentence_type"].applies for r in told)
    # A floor of 1 leaves every prediction under it: label None, distribution kept.
    model.tasks["query_intent"] = replace(model.tasks["query_intent"], floor=1.0)
    p = model.predict([query], given={"text_kind": "search_query"})[0]["query_intent"]
    assert p.abstained and p.label is None and p.distribution["brand_search"] == p.score
    with pytest.raises(MtstError, match="unknown task 'kind'"):
        model.predict([query], given={"kind": "x"})


def test_evaluate_reports_calibration_and_risk_coverage_and_draws_them(trust_run, tiny_data, tmp_path, capsys):
    from mtst.cli import main

    out, metrics = trust_run
    argv = ["mtst", "evaluate", "--model", str(out), "--data", str(tiny_data["dev"]), "--json"]
    run_cli(main, [*argv, "--plots", str(tmp_path / "plots")])
    report = json.loads(capsys.readouterr().out)["tasks"]["query_intent"]
    assert report["accuracy"] == metrics["test"]["tasks"]["query_intent"]["accuracy"]  # still every record
    assert report["calibration"]["ece_after"] == pytest.approx(
        metrics["test"]["tasks"]["query_intent"]["calibration"]["ece_after"]
    )
    assert report["abstention"]["coverage"] <= 1.0 and report["risk_coverage"][0]["coverage"] == 1.0
    assert (tmp_path / "plots" / "reliability_sentence_type.png").is_file()
    assert (tmp_path / "plots" / "risk_coverage_sentence_type.png").is_file()


def run_cli(main, argv, monkeypatch=None) -> int:
    saved = sys.argv
    sys.argv = argv
    try:
        main()
        return 0
    except SystemExit as stop:
        return stop.code
    finally:
        sys.argv = saved


def test_cli_predict_takes_given_kinds_and_shows_na(trust_run, capsys):
    from mtst.cli import main

    out, _ = trust_run
    base = ["mtst", "predict", "--model", str(out), "huggies size 4"]
    assert run_cli(main, [*base, "--json", "--given", "text_kind=message"]) in (0, None)
    row = json.loads(capsys.readouterr().out)
    assert row["text_kind"] == {
        "label": "message",
        "score": row["text_kind"]["score"],
        "abstained": False,
        "applies": True,
        "given": True,
    }
    assert row["query_intent"]["label"] is None and row["query_intent"]["applies"] is False
    assert run_cli(main, base) in (0, None)
    assert "sentence_type=n/a" in capsys.readouterr().out
    assert run_cli(main, [*base, "--given", "text_kind=poem"]) == 2
    assert "'poem' is not one of text_kind's labels" in capsys.readouterr().err


def test_server_predict_takes_given_and_flags_each_answer(trust_run):
    from mtst.model import MultiTaskModel
    from mtst.server import ServerSettings, create_app

    out, _ = trust_run
    with TestClient(create_app(ServerSettings(model=out), model=MultiTaskModel.load(out))) as client:
        while client.get("/health").status_code != 200:
            pass
        texts = ["huggies size 4", "Happy Friday everyone!"]
        got = client.post("/v1/predict", json={"texts": texts, "tasks": ["query_intent"]}).json()["results"]
        assert got[0]["predictions"]["query_intent"]["applies"] is True
        assert got[1]["predictions"]["query_intent"] | {"distribution": None} == {
            "label": None,
            "score": got[1]["predictions"]["query_intent"]["score"],
            "distribution": None,
            "trained": True,
            "abstained": False,
            "applies": False,
            "given": False,
        }
        given = [{"text_kind": "message"}, {"text_kind": "search_query"}]
        got = client.post("/v1/predict", json={"texts": texts, "given": given}).json()["results"]
        assert [r["predictions"]["sentence_type"]["applies"] for r in got] == [True, False]
        assert got[1]["predictions"]["text_kind"]["given"] is True
        for bad, words in [
            ({"text_kind": "poem"}, "'poem' is not one of text_kind's labels"),
            ({"ghost": "x"}, "unknown task 'ghost'"),
            ([{"text_kind": "message"}], "1 entries for 2 texts"),
            ({"text_kind": 3}, "string"),
        ]:
            response = client.post("/v1/predict", json={"texts": texts, "given": bad})
            assert response.status_code == 422
            assert words in json.dumps(response.json()["detail"])
        info = client.get("/info").json()
        assert {t["name"]: t["applies_when"] for t in info["tasks"]}["receipt_quality"] == {
            "text_kind": ["ocr_receipt"]
        }


def test_a_task_nobody_labelled_trains_as_untrained_and_rules_nothing_out(tmp_path):
    from mtst.model import MultiTaskModel
    from mtst.training import train

    records = tiny_records(text_kind=False)
    train_file = write_jsonl(tmp_path / "train.jsonl", [r for i, r in enumerate(records) if i % 3])
    dev_file = write_jsonl(tmp_path / "dev.jsonl", [r for i, r in enumerate(records) if not i % 3])
    cfg = {
        "tasks": [{"name": t.name, "labels": list(t.labels), "applies_when": t.applies_when} for t in DEFAULT_TASKS],
        "encoder": {"freeze": "encoder", "max_length": 48},
        "data": {"train": str(train_file), "dev": str(dev_file)},
        "epochs": 2,
        "batch_size": 8,
    }
    for t in cfg["tasks"]:
        if t["applies_when"] is None:
            del t["applies_when"]
        else:
            t["applies_when"] = {k: list(v) for k, v in t["applies_when"].items()}
    metrics = train(parse_config(cfg), tmp_path / "run", quiet=True)
    assert metrics["untrained_tasks"] == ["text_kind"] and "text_kind" not in metrics["dev"]["tasks"]
    model = MultiTaskModel.load(tmp_path / "run")
    assert model.trained == {"text_kind": False, "sentence_type": True, "receipt_quality": True, "query_intent": True}
    assert model.tasks["text_kind"].temperature == 1.0
    p = model.predict(["huggies size 4"])[0]
    assert all(q.applies for q in p.values()) and p["query_intent"].label is not None
    cfg["tasks"] = [t for t in cfg["tasks"] if t["name"] == "text_kind"]
    cfg["data"] = {"train": str(write_jsonl(tmp_path / "texts.jsonl", [{"text": r["text"]} for r in records]))}
    with pytest.raises(MtstError, match="no task to train has a labelled record"):
        train(parse_config(cfg), tmp_path / "run2", quiet=True)
