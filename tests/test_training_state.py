"""What a resumed run stands on: random states, the LR schedule, early stopping and the checkpoint file."""

import os
import random
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest
import torch
from torch import nn

from mtst.config import parse_config
from mtst.distributed import backend_for, join_world
from mtst.errors import MtstError
from mtst.training.batches import epoch_batches
from mtst.training.checkpoint import claim_output, load_checkpoint, save_checkpoint
from mtst.training.state import Schedule, TrainState, capture_rng, restore_rng, seed_everything
from mtst.training.stopping import EarlyStopping


def draws() -> tuple:
    return random.random(), float(np.random.rand()), float(torch.rand(1))


def test_every_random_state_survives_a_weights_only_checkpoint(tmp_path):
    seed_everything(5)
    draws()
    schedule = Schedule(total=30, warmup=3, kind="cosine")
    before = TrainState(schedule, epoch=2, step=7, history=[{"epoch": 2}])
    save_checkpoint(tmp_path / "c.pt", {"train_state": before.to_dict()})
    expected = draws()
    seed_everything(99)
    stored = torch.load(tmp_path / "c.pt", weights_only=True)  # tensors and plain data only
    state = TrainState.from_dict(stored["train_state"])
    assert (state.schedule, state.epoch, state.step, state.history) == (schedule, 2, 7, [{"epoch": 2}])
    assert state.lr_factor() == before.lr_factor() == schedule.factor(7)
    assert draws() == expected


def test_gpu_random_states_are_saved_and_put_back(monkeypatch):
    """Dropout on a GPU draws from the CUDA generators: a resumed GPU run needs them back (no GPU here: mocked)."""
    saved = [torch.tensor([1, 2, 3], dtype=torch.uint8)]
    put_back = []
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "get_rng_state_all", lambda: saved)
    monkeypatch.setattr(torch.cuda, "set_rng_state_all", put_back.append)
    state = capture_rng()
    assert state["cuda"] is saved
    restore_rng(state)
    assert put_back == [saved]


class Plant:
    """Unpickling this runs code: it writes a file."""

    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (open, (self.path, "w"))


def test_a_checkpoint_that_would_run_code_is_refused_without_running_it(tmp_path):
    marker = tmp_path / "ran"
    torch.save({"config": {}, "payload": Plant(str(marker))}, tmp_path / "checkpoint.pt")
    with pytest.raises(MtstError, match="plain data"):
        load_checkpoint(tmp_path / "checkpoint.pt", "cpu")
    assert not marker.exists()


def test_the_schedule_counts_only_the_batches_that_run():
    """With 2 processes a batch of one record is dropped; the schedule must not count it."""
    cfg = parse_config(
        {"tasks": [{"name": "a", "labels": ["x", "y"]}], "data": {"train": "t"}, "batch_size": 4, "epochs": 3}
    )
    lengths = np.arange(9)  # batches of 4, 4 and 1 each epoch
    assert Schedule.for_run(lengths, cfg, world_size=1).total == 9
    two = Schedule.for_run(lengths, cfg, world_size=2)
    assert two.total == 6 == sum(len(epoch_batches(lengths, 4, cfg.seed, e, 2)) for e in range(3))
    assert two.factor(two.total - 1) > 0 and two.factor(two.total) == 0.0  # linear decay ends on the last step


class Heads(nn.Module):
    """A model stand-in: two one-weight heads, set to the epoch number so restored weights tell their epoch."""

    def __init__(self):
        super().__init__()
        self.heads = nn.ModuleDict({"a": nn.Linear(1, 1, bias=False), "b": nn.Linear(1, 1, bias=False)})

    def set_epoch(self, epoch):
        for head in self.heads.values():
            head.weight.data.fill_(epoch)

    def epochs(self):
        return {n: int(h.weight.item()) for n, h in self.heads.items()}


def run_stopping(scores, whole_model, patience=5):
    model, stopping = Heads(), EarlyStopping(["a", "b"], patience, whole_model)
    for epoch, (a, b) in enumerate(scores):
        model.set_epoch(epoch)
        for name in stopping.stopped:  # a stopped head is frozen
            model.heads[name].weight.data.copy_(stopping.best_heads[name]["weight"])
        stopping.update({"a": {"macro_f1": a}, "b": {"macro_f1": b}}, epoch, model)
    stopping.restore(model)
    return stopping.kept_epochs(), model.epochs()


def test_frozen_encoder_keeps_each_heads_best_epoch_and_says_so():
    kept, restored = run_stopping([(0.9, 0.1), (0.5, 0.9), (0.4, 0.8)], whole_model=False)
    assert kept == restored == {"a": 0, "b": 1}


def test_trained_encoder_keeps_the_best_mean_epoch_and_reports_that_epoch():
    """The whole model of one epoch is saved, so that epoch is each task's reported best, not its own best."""
    kept, restored = run_stopping([(0.9, 0.1), (0.5, 0.9), (0.4, 0.8)], whole_model=True)
    assert kept == restored == {"a": 1, "b": 1}


def test_the_kept_snapshot_is_the_model_that_scored_it_even_when_a_task_stops_that_epoch():
    # Epoch 1 has the best mean, and 'a' stops there (its head goes back to epoch 0): the snapshot must
    # hold the epoch-1 head that was scored, not the restored one.
    kept, restored = run_stopping([(0.9, 0.1), (0.5, 0.95)], whole_model=True, patience=1)
    assert kept == restored == {"a": 1, "b": 1}


WRITER = textwrap.dedent(
    """
    import sys, torch
    from pathlib import Path
    from mtst.training.checkpoint import save_checkpoint
    path = Path(sys.argv[1])
    for n in range(10_000):
        save_checkpoint(path, {"n": n, "x": torch.full((4_000_000,), float(n))})
    """
)


def test_sigkill_while_a_checkpoint_is_written_leaves_the_previous_one_loadable(tmp_path):
    path = tmp_path / "checkpoint.pt"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(path)], env=env)
    deadline = time.monotonic() + 120
    try:
        # Wait for a whole checkpoint, then for the next one to be half written.
        while not (path.exists() and any(p.suffix == ".tmp" for p in tmp_path.iterdir())):
            assert proc.poll() is None and time.monotonic() < deadline
            time.sleep(0.005)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    state = load_checkpoint(path, "cpu")
    assert torch.equal(state["x"], torch.full((4_000_000,), float(state["n"])))


def test_a_failure_between_writing_and_renaming_keeps_the_previous_checkpoint(tmp_path, monkeypatch):
    path = tmp_path / "checkpoint.pt"
    save_checkpoint(path, {"n": 0})

    def killed(*args):
        raise KeyboardInterrupt  # as if the process died right before the rename

    monkeypatch.setattr("mtst.training.checkpoint.os.replace", killed)
    with pytest.raises(KeyboardInterrupt):
        save_checkpoint(path, {"n": 1})
    assert load_checkpoint(path, "cpu") == {"n": 0}
    assert [p.name for p in tmp_path.iterdir()] == ["checkpoint.pt"]


def test_a_full_disk_while_writing_a_checkpoint_keeps_the_previous_one(tmp_path, monkeypatch):
    import errno

    path = tmp_path / "checkpoint.pt"
    save_checkpoint(path, {"n": 0})
    real_save = torch.save

    def full_disk(obj, target):
        real_save(obj, target)
        with open(target, "r+b") as f:
            f.truncate(10)  # what made it to disk
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(torch, "save", full_disk)
    with pytest.raises(OSError):
        save_checkpoint(path, {"n": 1})
    assert load_checkpoint(path, "cpu") == {"n": 0}
    assert [p.name for p in tmp_path.iterdir()] == ["checkpoint.pt"]


def test_a_used_output_folder_needs_resume_or_overwrite(tmp_path):
    (tmp_path / "metrics.json").write_text("{}")
    (tmp_path / "heads.safetensors").write_bytes(b"model")
    with pytest.raises(MtstError, match="--resume .* --overwrite"):
        claim_output(tmp_path, resume=False, overwrite=False)
    with pytest.raises(MtstError, match="choose one"):
        claim_output(tmp_path, resume=True, overwrite=True)
    claim_output(tmp_path, resume=False, overwrite=True)
    # The run's old report goes; the model stays until the new one replaces it.
    assert [p.name for p in tmp_path.iterdir()] == ["heads.safetensors"]
    claim_output(tmp_path / "new", resume=False, overwrite=False)


def test_gpu_processes_get_a_group_that_serves_cpu_and_cuda_tensors(monkeypatch):
    """NCCL takes only CUDA tensors, and the trainer also reduces CPU ones: gloo must serve those (mocked GPU)."""
    import torch.distributed as dist
    from torch.distributed.distributed_c10d import Backend, BackendConfig

    calls = {}
    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.setenv("RANK", "1")
    monkeypatch.setenv("LOCAL_RANK", "1")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "set_device", lambda index: calls.setdefault("device", index))
    monkeypatch.setattr(dist, "is_initialized", lambda: False)
    monkeypatch.setattr(dist, "init_process_group", lambda backend: calls.setdefault("backend", backend))
    world, device = join_world(None)
    assert (world.rank, world.size, device) == (1, 2, "cuda:1")
    assert calls == {"device": 1, "backend": backend_for(True)}
    assert BackendConfig(Backend(calls["backend"])).get_device_backend_map() == {"cpu": "gloo", "cuda": "nccl"}
    assert BackendConfig(Backend(backend_for(False))).get_device_backend_map()["cpu"] == "gloo"
