"""The run folder: who may write into it, and the checkpoint a killed run resumes from.

A checkpoint holds tensors and plain data only and is read with torch.load(weights_only=True): opening
one never runs code from the file. It is written beside its final name and renamed over it, so a kill or
a full disk midway leaves the previous checkpoint whole.
"""

import json
import logging
import os
import pickle
import shutil
from pathlib import Path

import torch

from mtst.errors import MtstError

log = logging.getLogger("mtst")

CHECKPOINT = "checkpoint.pt"
HISTORY = "history.jsonl"
METRICS = "metrics.json"
TIMING = "timing.json"
# What a run leaves beside the model; --overwrite removes these first. The model's own files are replaced
# only by the final atomic save, so a run that fails keeps the model that was there.
RUN_FILES = (CHECKPOINT, HISTORY, METRICS, TIMING, "learning_curves.png")


def claim_output(output: Path, resume: bool, overwrite: bool, is_main: bool = True) -> dict | None:
    """Make sure this run owns `output`. Returns the metrics when --resume finds the run already complete."""
    if resume and overwrite:
        raise MtstError("--resume continues the run in the folder and --overwrite starts it again; choose one")
    checkpoint = output / CHECKPOINT
    if resume:
        if checkpoint.exists():
            return None
        if (output / METRICS).exists() and (output / HISTORY).exists():
            log.info("the run in %s is already complete", output)
            return json.loads((output / METRICS).read_text())
        raise MtstError(
            f"cannot resume: no {CHECKPOINT} in {output} (the run stopped before its first epoch ended); "
            "start it again with --overwrite"
        )
    used = output.is_dir() and any(output.iterdir())
    if used and not overwrite:
        raise MtstError(
            f"output folder {output} is not empty; pass --resume to continue the run in it, "
            "--overwrite to train into it again, or choose a new folder"
        )
    if used and is_main:
        for path in output.iterdir():
            if path.name in RUN_FILES or path.name.startswith("confusion_") or path.suffix == ".tmp":
                if path.is_dir():
                    shutil.rmtree(path)
                else:
                    path.unlink()
    return None


def save_checkpoint(path: Path, state: dict) -> None:
    partial = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    try:
        torch.save(state, partial)
        os.replace(partial, path)  # atomic: a kill before this line leaves the previous checkpoint whole
    finally:
        partial.unlink(missing_ok=True)


def load_checkpoint(path: Path, device) -> dict:
    try:
        return torch.load(path, map_location=device, weights_only=True)
    except (OSError, RuntimeError, EOFError, ValueError, pickle.UnpicklingError) as err:
        reason = " ".join(str(err).split())[:300]
        raise MtstError(
            f"cannot resume: {path} is unreadable or holds more than tensors and plain data ({reason}); "
            "start again with --overwrite"
        ) from None
