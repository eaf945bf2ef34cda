"""Reporting, apart from the loop: progress bars, the history file, learning curves and confusion matrices.

The trainer calls each callback at fixed points; the main process gets them all, the others none.
"""

import json
import os
from pathlib import Path

from tqdm.auto import tqdm

from mtst.training.checkpoint import HISTORY


class Callback:
    def on_train_begin(self, trainer, start_epoch: int) -> None: ...
    def on_epoch_begin(self, trainer, epoch: int, batches: int) -> None: ...
    def on_step(self, trainer) -> None: ...
    def on_epoch_end(self, trainer, row: dict, dev: dict) -> None: ...
    def on_train_end(self, trainer, metrics: dict, final: dict, split: str) -> None: ...


class ProgressBars(Callback):
    """One bar over epochs (with each task's dev macro-F1) and one over the batches of the current epoch."""

    def on_train_begin(self, trainer, start_epoch):
        epochs = trainer.config.epochs
        self.epochs = tqdm(desc="training", unit="epoch", initial=start_epoch, total=epochs)
        self.batches = None

    def on_epoch_begin(self, trainer, epoch, batches):
        self.batches = tqdm(total=batches, desc=f"epoch {epoch + 1}", leave=False, unit="batch")

    def on_step(self, trainer):
        self.batches.update()

    def on_epoch_end(self, trainer, row, dev):
        self.batches.close()
        self.epochs.update()
        self.epochs.set_postfix({n: f"{m['macro_f1']:.3f}" for n, m in dev.items()})

    def on_train_end(self, trainer, metrics, final, split):
        self.epochs.close()


class HistoryFile(Callback):
    """history.jsonl: one row per epoch, rewritten whole (atomically) after each, so a resumed run matches."""

    def __init__(self, output: Path) -> None:
        self.path = output / HISTORY

    def on_epoch_end(self, trainer, row, dev):
        partial = self.path.with_name(f"{self.path.name}.tmp")
        partial.write_text("".join(json.dumps(r) + "\n" for r in trainer.state.history))
        os.replace(partial, self.path)


class Pictures(Callback):
    """learning_curves.png from the history and one confusion matrix per task on the final split."""

    def __init__(self, output: Path) -> None:
        self.output = output

    def on_train_end(self, trainer, metrics, final, split):
        from mtst.metrics import save_confusion_png
        from mtst.plots import save_learning_curves

        save_learning_curves(trainer.state.history, self.output / "learning_curves.png")
        for name, m in final["tasks"].items():
            save_confusion_png(m, f"{name} ({split})", self.output / f"confusion_{name}.png")


def default_callbacks(output: Path, quiet: bool) -> list[Callback]:
    return ([] if quiet else [ProgressBars()]) + [HistoryFile(output), Pictures(output)]
