"""Multi-task training: `train(config, output)` and the parts it is made of.

- trainer.py: the Trainer and its loop (`train` is the one-call entry);
- model_setup.py: the model a run trains, what learns each epoch, the optimizer;
- features.py: where embeddings come from, one source per freezing strategy;
- loss.py: the masked multi-task loss;
- batches.py, state.py, stopping.py, checkpoint.py: batches, the resumable state, early stopping, the run folder;
- callbacks.py: progress bars, history, curves and confusion matrices.
"""

from mtst.model import make_head
from mtst.training.batches import epoch_batches, make_batches
from mtst.training.loss import multitask_loss
from mtst.training.model_setup import apply_freezing, build_model, encoder_always_frozen
from mtst.training.state import Schedule, TrainState, lr_factor, seed_everything
from mtst.training.stopping import EarlyStopping
from mtst.training.trainer import Trainer, train

__all__ = [
    "EarlyStopping",
    "Schedule",
    "TrainState",
    "Trainer",
    "apply_freezing",
    "build_model",
    "encoder_always_frozen",
    "epoch_batches",
    "lr_factor",
    "make_batches",
    "make_head",
    "multitask_loss",
    "seed_everything",
    "train",
]
