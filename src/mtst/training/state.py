"""Everything a run needs to continue exactly where it stopped, as tensors and plain data.

The checkpoint saves a TrainState and loads it with torch.load(weights_only=True), so nothing in here
may be an arbitrary Python object: random states are lists, tuples and tensors.
"""

import math
import random
from dataclasses import dataclass, field

import numpy as np
import torch

from mtst.training.batches import epoch_batches


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def capture_rng() -> dict:
    """Every random generator training touches: Python's, NumPy's, torch's CPU one and each GPU's."""
    name, keys, pos, has_gauss, gauss = np.random.get_state()
    state = {
        "python": random.getstate(),
        "numpy": [name, keys.tolist(), int(pos), int(has_gauss), float(gauss)],
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()  # dropout on a GPU draws from these
    return state


def restore_rng(state: dict) -> None:
    random.setstate(state["python"])
    name, keys, pos, has_gauss, gauss = state["numpy"]
    np.random.set_state((name, np.array(keys, dtype=np.uint32), pos, has_gauss, gauss))
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def lr_factor(step: int, total: int, warmup: int, schedule: str) -> float:
    if warmup and step < warmup:
        return (step + 1) / warmup
    if schedule == "constant":
        return 1.0
    progress = (step - warmup) / max(1, total - warmup)
    if schedule == "cosine":
        return 0.5 * (1 + math.cos(math.pi * min(1.0, progress)))
    return max(0.0, 1 - progress)


@dataclass(frozen=True)
class Schedule:
    """The learning-rate schedule over the optimizer steps the run will really take."""

    total: int
    warmup: int
    kind: str

    @classmethod
    def for_run(cls, lengths: np.ndarray, config, world_size: int = 1) -> "Schedule":
        # Counted from the batches each epoch really runs: data-parallel runs drop batches too small to share.
        total = sum(
            len(epoch_batches(lengths, config.batch_size, config.seed, epoch, world_size))
            for epoch in range(config.epochs)
        )
        return cls(total, int(config.optimizer.warmup_ratio * total), config.optimizer.schedule)

    def factor(self, step: int) -> float:
        return lr_factor(step, self.total, self.warmup, self.kind)


@dataclass
class TrainState:
    """Where the run is: epochs and steps done, the LR schedule and its position, the history so far;
    saved with every random state."""

    schedule: Schedule
    epoch: int = 0  # epochs finished
    step: int = 0  # optimizer steps taken: the schedule's position
    history: list[dict] = field(default_factory=list)

    def lr_factor(self) -> float:
        """The factor on each group's base learning rate for the next step."""
        return self.schedule.factor(self.step)

    def to_dict(self) -> dict:
        return {
            "schedule": [self.schedule.total, self.schedule.warmup, self.schedule.kind],
            "epoch": self.epoch,
            "step": self.step,
            "history": self.history,
            "rng": capture_rng(),
        }

    @classmethod
    def from_dict(cls, data: dict) -> "TrainState":
        restore_rng(data["rng"])
        return cls(Schedule(*data["schedule"]), data["epoch"], data["step"], data["history"])
