"""Early stopping and the choice of the weights a run keeps.

Each task stops after `patience` epochs without a better dev macro-F1, and its head goes back to its best.
What the run keeps at the end, and reports as each task's best epoch:
- frozen encoder: each head at its own best epoch (the features never change, so heads mix freely);
- trained encoder: a head only fits the encoder it was trained with, so the whole model of the epoch with
  the best mean macro-F1, and that epoch is the one reported for every task.
"""

import copy
import logging

import numpy as np
import torch

log = logging.getLogger("mtst")


class EarlyStopping:
    def __init__(self, tasks: list[str], patience: int, whole_model: bool) -> None:
        self.tasks, self.patience, self.whole_model = list(tasks), patience, whole_model
        self.best_f1: dict[str, float] = {}
        self.best_epoch: dict[str, int] = {}
        self.best_heads: dict[str, dict] = {}
        self.bad_epochs: dict[str, int] = {}
        self.stopped: set[str] = set()
        self.best_mean, self.best_mean_epoch = -1.0, -1
        self.best_snapshot: dict[str, torch.Tensor] | None = None

    def update(self, dev: dict, epoch: int, model) -> None:
        """Take in one epoch's dev scores (dev[task]["macro_f1"]) for the model as it is now."""
        for name in self.tasks:
            if name in self.stopped or name not in dev:
                continue
            f1 = dev[name]["macro_f1"]
            if f1 > self.best_f1.get(name, -1.0):
                self.best_f1[name], self.best_epoch[name], self.bad_epochs[name] = f1, epoch, 0
                self.best_heads[name] = copy.deepcopy(model.heads[name].state_dict())
            else:
                self.bad_epochs[name] = self.bad_epochs.get(name, 0) + 1
        scored = [dev[n]["macro_f1"] for n in dev]
        mean_f1 = float(np.mean(scored)) if scored else 0.0
        if self.whole_model and mean_f1 > self.best_mean:
            # Taken before any head below goes back to its best: these are the weights that scored `mean_f1`.
            self.best_mean, self.best_mean_epoch = mean_f1, epoch
            self.best_snapshot = {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}
        for name in self.tasks:
            if name not in self.stopped and self.bad_epochs.get(name, 0) >= self.patience:
                self.stopped.add(name)
                model.heads[name].load_state_dict(self.best_heads[name])
                log.info("task %s stopped after epoch %d (best macro-F1 %.4f)", name, epoch + 1, self.best_f1[name])

    def restore(self, model) -> None:
        """Put back the weights the run keeps (see the module's docstring)."""
        if self.whole_model and self.best_snapshot is not None:
            model.load_state_dict(self.best_snapshot)
        else:
            for name, state in self.best_heads.items():
                model.heads[name].load_state_dict(state)

    def kept_epochs(self) -> dict[str, int]:
        """Per task, the epoch (from 0) whose weights restore() puts back."""
        if self.whole_model and self.best_snapshot is not None:
            return {name: self.best_mean_epoch for name in self.best_epoch}
        return dict(self.best_epoch)

    def state_dict(self) -> dict:
        return {
            "best_f1": self.best_f1,
            "best_epoch": self.best_epoch,
            "best_heads": self.best_heads,
            "bad_epochs": self.bad_epochs,
            "stopped": sorted(self.stopped),
            "best_mean": self.best_mean,
            "best_mean_epoch": self.best_mean_epoch,
            "best_snapshot": self.best_snapshot,
        }

    def load_state_dict(self, state: dict) -> None:
        self.best_f1, self.best_epoch, self.best_heads = state["best_f1"], state["best_epoch"], state["best_heads"]
        self.bad_epochs, self.stopped = state["bad_epochs"], set(state["stopped"])
        self.best_mean, self.best_mean_epoch = state["best_mean"], state["best_mean_epoch"]
        self.best_snapshot = state["best_snapshot"]
