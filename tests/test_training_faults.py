"""A run owns its folder, and a failure midway never costs the model already there."""

import errno
import json

import pytest
import torch
import yaml
from typer.testing import CliRunner

from mtst.config import parse_config
from mtst.errors import MtstError
from mtst.model import MultiTaskModel
from mtst.tasks import DEFAULT_TASKS
from mtst.training import Trainer, train


def config(tiny_data, epochs=1) -> dict:
    return {
        "tasks": [{"name": t.name, "labels": list(t.labels), "lr": 0.1} for t in DEFAULT_TASKS],
        "encoder": {"freeze": "encoder", "max_length": 48},
        "data": {"train": str(tiny_data["train"]), "dev": str(tiny_data["dev"])},
        "epochs": epochs,
        "batch_size": 8,
        "seed": 3,
    }


def heads(folder) -> dict:
    return MultiTaskModel.load(folder).heads.state_dict()


@pytest.fixture
def finished_run(tiny_data, tmp_path):
    out = tmp_path / "run"
    train(parse_config(config(tiny_data)), out, quiet=True)
    return out


def test_a_new_run_refuses_a_used_folder_and_resume_never_reports_an_old_run(finished_run, tiny_data, monkeypatch):
    cfg = parse_config(config(tiny_data, epochs=2))
    with pytest.raises(MtstError, match="not empty; pass --resume .* --overwrite"):
        train(cfg, finished_run, quiet=True)

    def killed(self, epoch):
        raise KeyboardInterrupt  # the new run dies in its first epoch, before any checkpoint

    monkeypatch.setattr(Trainer, "train_epoch", killed)
    with pytest.raises(KeyboardInterrupt):
        train(cfg, finished_run, quiet=True, overwrite=True)
    monkeypatch.undo()
    with pytest.raises(MtstError, match="no checkpoint.pt"):
        train(cfg, finished_run, resume=True, quiet=True)
    MultiTaskModel.load(finished_run)  # the old model is still whole


def test_the_cli_trains_again_into_a_used_folder_with_overwrite(finished_run, tiny_data, tmp_path):
    from mtst.cli import app

    path = tmp_path / "cfg.yaml"
    path.write_text(yaml.safe_dump(config(tiny_data, epochs=2)))
    args = ["train", "--config", str(path), "--output", str(finished_run), "--quiet"]
    refused = CliRunner().invoke(app, args)
    assert isinstance(refused.exception, MtstError)
    assert CliRunner().invoke(app, [*args, "--overwrite"]).exit_code == 0
    assert json.loads((finished_run / "metrics.json").read_text())["epochs_run"] == 2


def test_a_full_disk_while_saving_keeps_the_old_model_and_the_checkpoint(finished_run, tiny_data, monkeypatch):
    old = heads(finished_run)
    cfg = parse_config(config(tiny_data, epochs=2))

    def full_disk(tensors, path, *args, **kwargs):
        open(path, "wb").write(b"\0" * 100)
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("mtst.model.save_file", full_disk)  # the heads are written after the encoder: midway
    with pytest.raises(MtstError, match="No space left on device") as err:
        train(cfg, finished_run, quiet=True, overwrite=True)
    assert "\n" not in str(err.value)
    monkeypatch.undo()
    for key, value in heads(finished_run).items():
        assert torch.equal(value, old[key])  # the old model folder still loads, unchanged
    assert (finished_run / "checkpoint.pt").exists()
    # Space freed: the run finishes from its checkpoint.
    assert train(cfg, finished_run, resume=True, quiet=True)["epochs_run"] == 2
    assert not all(torch.equal(value, old[key]) for key, value in heads(finished_run).items())


@pytest.mark.parametrize("content", ["{not json", "", '{"tasks": [{"name": "sentence_type"}]}'])
def test_a_corrupt_tasks_json_is_one_line_naming_the_file(finished_run, tiny_data, tmp_path, content):
    (finished_run / "tasks.json").write_text(content)
    cfg = config(tiny_data)
    cfg["encoder"]["init_model"] = str(finished_run)
    with pytest.raises(MtstError) as err:
        train(parse_config(cfg), tmp_path / "next", quiet=True)
    message = str(err.value)
    assert str(finished_run / "tasks.json") in message and "\n" not in message
