import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import torch
import yaml

from mtst.config import load_config, parse_config
from mtst.errors import MtstError
from mtst.model import MultiTaskModel
from mtst.tasks import DEFAULT_TASKS
from mtst.training import Trainer, make_batches, train


def config(tiny_data, **overrides) -> dict:
    data = {
        "tasks": [{"name": t.name, "labels": list(t.labels), "lr": 0.1} for t in DEFAULT_TASKS],
        "encoder": {"freeze": "encoder", "max_length": 48},
        "data": {"train": str(tiny_data["train"]), "dev": str(tiny_data["dev"])},
        "epochs": 6,
        "batch_size": 8,
        "patience": 3,
        "seed": 3,
    }
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(data.get(key), dict):
            data[key] = {**data[key], **value}
        else:
            data[key] = value
    return data


def assert_best_epochs_describe_the_saved_model(out, metrics) -> None:
    """Each task's reported best epoch is the one whose weights were saved: its dev scores then are the final ones."""
    history = [json.loads(line) for line in (out / "history.jsonl").read_text().splitlines()]
    for name, epoch in metrics["best_epoch"].items():
        assert history[epoch - 1]["tasks"][name]["macro_f1"] == metrics["dev"]["tasks"][name]["macro_f1"], name


@pytest.fixture(scope="module")
def frozen_run(tiny_data, tmp_path_factory):
    out = tmp_path_factory.mktemp("frozen")
    metrics = train(parse_config(config(tiny_data)), out, quiet=True)
    return out, metrics


def test_a_run_leaves_model_history_metrics_and_plots(frozen_run):
    out, metrics = frozen_run
    history = [json.loads(line) for line in (out / "history.jsonl").read_text().splitlines()]
    assert len(history) == metrics["epochs_run"] >= 3
    row = history[0]
    assert set(row["tasks"]) == {t.name for t in DEFAULT_TASKS}
    for stats in row["tasks"].values():
        assert {"train_loss", "dev_loss", "accuracy", "macro_f1", "grad_norm"} <= set(stats)
        assert stats["grad_norm"] > 0
    assert {"encoder", "sentence_type", "receipt_quality", "query_intent"} <= set(row["lr"])
    for name in ("learning_curves.png", "confusion_sentence_type.png", "confusion_query_intent.png"):
        assert (out / name).read_bytes()[:4] == b"\x89PNG"
    assert not (out / "checkpoint.pt").exists()
    model = MultiTaskModel.load(out)
    assert all(model.trained.values())
    card = (out / "README.md").read_text()
    dev = metrics["dev"]["tasks"]["query_intent"]
    assert f"{dev['macro_f1']:.4f}" in card
    assert_best_epochs_describe_the_saved_model(out, metrics)


def test_heads_learn_on_the_tiny_set(frozen_run):
    _, metrics = frozen_run
    dev = metrics["dev"]["tasks"]
    # Chance macro-F1 is about 1/n_labels; the frozen encoder separates these easily.
    assert dev["query_intent"]["macro_f1"] > 0.6
    assert dev["sentence_type"]["macro_f1"] > 0.5


def test_cached_fast_path_gives_the_same_result_as_the_slow_path(tiny_data, tmp_path, frozen_run):
    _, fast = frozen_run
    slow = train(parse_config(config(tiny_data, encoder={"cache_embeddings": False})), tmp_path, quiet=True)
    assert slow["epochs_run"] == fast["epochs_run"]
    for name, m in fast["dev"]["tasks"].items():
        assert slow["dev"]["tasks"][name]["accuracy"] == m["accuracy"]
        assert slow["dev"]["tasks"][name]["loss"] == pytest.approx(m["loss"], abs=1e-4)
    fast_heads = MultiTaskModel.load(frozen_run[0]).heads.state_dict()
    slow_heads = MultiTaskModel.load(tmp_path).heads.state_dict()
    for key, value in fast_heads.items():
        torch.testing.assert_close(slow_heads[key], value, atol=1e-4, rtol=1e-3)


def test_freezing_everything_refuses_to_train(tiny_data, tmp_path):
    with pytest.raises(MtstError, match="learn nothing"):
        train(parse_config(config(tiny_data, encoder={"freeze": "all"})), tmp_path, quiet=True)


def test_a_task_that_stops_improving_stops_and_keeps_its_best_head(tiny_data, tmp_path):
    # A learning rate this small cannot move macro-F1, so the task stops after `patience` epochs.
    cfg = config(tiny_data, patience=2, epochs=8)
    cfg["tasks"][1]["lr"] = 1e-9
    metrics = train(parse_config(cfg), tmp_path, quiet=True)
    history = [json.loads(line) for line in (tmp_path / "history.jsonl").read_text().splitlines()]
    flags = [row["tasks"]["receipt_quality"]["stopped"] for row in history]
    assert flags[:2] == [False, False] and flags[2] is True
    assert "train_loss" not in history[-1]["tasks"]["receipt_quality"]  # no longer in the loss
    assert metrics["best_epoch"]["receipt_quality"] == 1


def test_uncertainty_weighting_trains(tiny_data, tmp_path):
    metrics = train(parse_config(config(tiny_data, loss_weighting="uncertainty", epochs=3)), tmp_path, quiet=True)
    assert metrics["dev"]["tasks"]["query_intent"]["macro_f1"] > 0.4


def test_adding_a_task_with_old_heads_and_encoder_frozen_keeps_old_results(frozen_run, tiny_data, tmp_path):
    base, base_metrics = frozen_run
    cfg = config(tiny_data, encoder={"init_model": str(base), "frozen_heads": ["sentence_type", "query_intent"]})
    cfg["tasks"].append({"name": "is_receipt", "labels": ["no", "yes"]})
    train_file = tmp_path / "train.jsonl"
    rows = [json.loads(line) for line in tiny_data["train"].read_text().splitlines()]
    for row in rows:
        row["is_receipt"] = "yes" if row.get("sentence_type") == "receipt" else "no"
    train_file.write_text("".join(json.dumps(r) + "\n" for r in rows))
    cfg["data"]["train"] = str(train_file)
    cfg["data"]["dev"] = None
    train(parse_config(cfg), tmp_path / "run", quiet=True)
    old, new = MultiTaskModel.load(base), MultiTaskModel.load(tmp_path / "run")
    for name in ("sentence_type", "query_intent"):
        for key, value in old.heads[name].state_dict().items():
            assert torch.equal(new.heads[name].state_dict()[key], value)
    assert new.trained["is_receipt"]


def test_gradual_unfreezing_grows_the_trainable_layers(tiny_data, tmp_path, small_encoder_dir):
    encoder = {"freeze": "gradual", "gradual": {"start": 1, "step": 1}, "path": str(small_encoder_dir)}
    cfg = parse_config(config(tiny_data, encoder=encoder, epochs=3))
    metrics = train(cfg, tmp_path, quiet=True)
    history = [json.loads(line) for line in (tmp_path / "history.jsonl").read_text().splitlines()]
    counts = [row["trainable_parameters"] for row in history]
    assert counts[0] < counts[1] < counts[2]
    # The encoder trains, so the whole model of one epoch is kept: every task reports that epoch.
    assert len(set(metrics["best_epoch"].values())) == 1
    assert_best_epochs_describe_the_saved_model(tmp_path, metrics)


def test_batches_depend_only_on_seed_and_epoch():
    lengths = np.array([5, 9, 3, 12, 7, 7, 2, 30, 11, 4])
    a = make_batches(lengths, 3, seed=1, epoch=2)
    b = make_batches(lengths, 3, seed=1, epoch=2)
    assert [x.tolist() for x in a] == [x.tolist() for x in b]
    assert sorted(np.concatenate(a).tolist()) == list(range(10))
    assert [x.tolist() for x in make_batches(lengths, 3, seed=1, epoch=3)] != [x.tolist() for x in a]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"epochs": 0}, "epochs"),
        ({"encoder": {"freeze": "some"}}, "encoder.freeze"),
        ({"encoder": {"lr": -1}}, "encoder.lr"),
        ({"optimiser": {}}, "optimiser"),
        ({"encoder": {"frozen_heads": ["ghost"]}}, "ghost"),
    ],
)
def test_bad_config_keys_are_named(tiny_data, change, message):
    with pytest.raises(MtstError, match=message):
        parse_config(config(tiny_data, **change))


def test_shipped_config_is_valid():
    from pathlib import Path

    cfg = load_config(Path(__file__).parent.parent / "configs" / "app.yaml")
    assert [t.name for t in cfg.tasks] == [t.name for t in DEFAULT_TASKS]
    assert [tuple(t.labels) for t in cfg.tasks] == [t.labels for t in DEFAULT_TASKS]
    assert Path(cfg.data.train).is_file() and Path(cfg.data.test).is_file()


def test_killed_run_resumes_to_the_same_metrics(tiny_data, tmp_path, small_encoder_dir):
    """SIGKILL mid-run, then --resume: the same metrics as a run never interrupted (encoder training too)."""
    encoder = {"freeze": "none", "path": str(small_encoder_dir), "max_length": 32}
    cfg = config(tiny_data, encoder=encoder, epochs=4, patience=4)
    path = tmp_path / "cfg.yaml"
    path.write_text(yaml.safe_dump(cfg))
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    command = [sys.executable, "-m", "mtst", "train", "--config", str(path), "--quiet"]

    train(load_config(path), tmp_path / "whole", quiet=True)

    killed = tmp_path / "killed"
    proc = subprocess.Popen([*command, "--output", str(killed)], env=env, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 300
    while not (killed / "history.jsonl").exists() or len((killed / "history.jsonl").read_text().splitlines()) < 2:
        assert proc.poll() is None, "training ended before it could be killed"
        assert time.monotonic() < deadline
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert (killed / "checkpoint.pt").exists() and not (killed / "metrics.json").exists()

    train(load_config(path), killed, resume=True, quiet=True)
    whole = json.loads((tmp_path / "whole" / "metrics.json").read_text())
    resumed = json.loads((killed / "metrics.json").read_text())
    assert resumed == whole
    assert (tmp_path / "whole" / "history.jsonl").read_text().count("\n") == 4
    whole_rows = [json.loads(x) for x in (tmp_path / "whole" / "history.jsonl").read_text().splitlines()]
    resumed_rows = [json.loads(x) for x in (killed / "history.jsonl").read_text().splitlines()]
    for a, b in zip(whole_rows, resumed_rows, strict=True):
        assert a["tasks"] == b["tasks"]


def test_resume_without_a_checkpoint_says_so(tiny_data, tmp_path):
    with pytest.raises(MtstError, match="no checkpoint.pt"):
        Trainer(parse_config(config(tiny_data)), tmp_path, quiet=True).fit(resume=True)


def test_top_layers_on_cached_lower_blocks_match_the_slow_path(tiny_data, tmp_path, small_encoder_dir):
    """freeze: top trains the top blocks on stored outputs of the frozen ones: same result as running them."""
    encoder = {"freeze": "top", "top_layers": 1, "path": str(small_encoder_dir), "lr": 1e-3}
    fast = train(parse_config(config(tiny_data, encoder=encoder, epochs=3)), tmp_path / "fast", quiet=True)
    slow_encoder = {**encoder, "cache_embeddings": False}
    slow = train(parse_config(config(tiny_data, encoder=slow_encoder, epochs=3)), tmp_path / "slow", quiet=True)
    for name, m in fast["dev"]["tasks"].items():
        assert slow["dev"]["tasks"][name]["loss"] == pytest.approx(m["loss"], abs=1e-4)
    a, b = MultiTaskModel.load(tmp_path / "fast"), MultiTaskModel.load(tmp_path / "slow")
    a_state, b_state = a.state_dict(), b.state_dict()
    assert [k for k in a_state if k.startswith("encoder.tuned.blocks.0.")]  # the trained copy of block 2
    for key in a_state:
        torch.testing.assert_close(a_state[key], b_state[key], atol=1e-4, rtol=1e-3)
    # The base encoder, block 2's original included, keeps the starting weights exactly.
    from transformers import AutoModel

    start = AutoModel.from_pretrained(small_encoder_dir).state_dict()
    for key, value in start.items():
        if key in a.encoder.transformer.state_dict():
            assert torch.equal(a.encoder.transformer.state_dict()[key], value), key


def test_two_processes_with_gloo_match_one_process(tiny_data, tmp_path):
    """torchrun with 2 CPU processes (gloo) and the same global batch and seed ends where 1 process does."""
    cfg = config(tiny_data, epochs=4, patience=4)
    path = tmp_path / "cfg.yaml"
    path.write_text(yaml.safe_dump(cfg))
    single = train(load_config(path), tmp_path / "single", quiet=True)
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1"}
    command = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        "--nproc_per_node=2",
        "-m",
        "mtst",
        "train",
        "--config",
        str(path),
        "--output",
        str(tmp_path / "ddp"),
        "--quiet",
        "--device",
        "cpu",
    ]
    # A session of its own, so that a hang is cleaned up with every worker torchrun started.
    proc = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        out, _ = proc.communicate(timeout=600)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        raise
    assert proc.returncode == 0, out.decode(errors="replace")[-3000:]
    ddp = json.loads((tmp_path / "ddp" / "metrics.json").read_text())
    runs = ("single", "ddp")
    assert ddp["epochs_run"] == single["epochs_run"]
    # Stated tolerance: identical predictions, losses within 1e-4 (only float summation order differs).
    for name, m in single["dev"]["tasks"].items():
        assert ddp["dev"]["tasks"][name]["accuracy"] == m["accuracy"]
        assert ddp["dev"]["tasks"][name]["macro_f1"] == m["macro_f1"]
        assert ddp["dev"]["tasks"][name]["loss"] == pytest.approx(m["loss"], abs=1e-4)
    assert not (tmp_path / "ddp" / "checkpoint.pt").exists()
    assert (tmp_path / "ddp" / "history.jsonl").read_text().count("\n") == single["epochs_run"]
    # Training statistics are the global batch's: the gradient norm of the whole batch, not a mean of shard norms.
    rows = [[json.loads(x) for x in (tmp_path / run / "history.jsonl").read_text().splitlines()] for run in runs]
    for one, two in zip(*rows, strict=True):
        for name, stats in one["tasks"].items():
            assert two["tasks"][name]["grad_norm"] == pytest.approx(stats["grad_norm"], rel=1e-4)
            assert two["tasks"][name]["train_loss"] == pytest.approx(stats["train_loss"], rel=1e-4)
