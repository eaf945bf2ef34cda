"""The model a run trains, which of its parameters learn each epoch, and the optimizer over them."""

import torch
from torch import nn

from mtst.config import TrainConfig
from mtst.encoder import SentenceEncoder
from mtst.errors import MtstError
from mtst.freezing import encoder_layers, freeze_encoder, freeze_heads, set_trainable, unfreeze_top_layers
from mtst.model import MultiTaskModel


def build_model(config: TrainConfig, device: str | None = None) -> MultiTaskModel:
    """A fresh model, or one that starts from a saved mtst model and adds the config's new heads."""
    specs = config.specs()
    device = device or config.device
    if config.encoder.init_model is None:
        encoder = SentenceEncoder(
            config.encoder.path, config.encoder.max_length, device=device, truncation=config.encoder.truncation
        )
        return MultiTaskModel(encoder, specs)
    base = MultiTaskModel.load(config.encoder.init_model, device=device)
    model = MultiTaskModel(base.encoder, specs)
    for spec in specs:
        old = base.tasks.get(spec.name)
        if old is None:
            continue
        if old.head_shape() != spec.head_shape():
            raise MtstError(
                f"task {spec.name!r} differs from the one in {config.encoder.init_model} "
                f"(labels {list(old.labels)}, hidden {old.hidden}); rename the task or match its spec"
            )
        model.heads[spec.name].load_state_dict(base.heads[spec.name].state_dict())
        model.trained[spec.name] = base.trained[spec.name]
    return model


def encoder_always_frozen(config: TrainConfig) -> bool:
    return config.encoder.freeze == "encoder"


def frozen_blocks(model: MultiTaskModel, config: TrainConfig) -> int:
    """freeze: top: how many lower blocks stay frozen."""
    return model.encoder.num_layers - config.encoder.top_layers


def tuned_branch_blocks(config: TrainConfig, num_layers: int) -> int:
    """Blocks the tuned branch needs: as many as the strategy ever trains (num_layers + 1: embeddings too)."""
    enc = config.encoder
    if enc.freeze == "top":
        return enc.top_layers
    if enc.freeze == "gradual":
        return enc.gradual.layers_at(config.epochs - 1)
    return num_layers + 1 if enc.freeze == "none" else 0


def apply_freezing(model: MultiTaskModel, config: TrainConfig, epoch: int, stopped: set[str]) -> None:
    """Set requires_grad for this epoch from the strategy, the frozen heads and the stopped tasks.

    The strategy trains a tuned branch (copies of the blocks it tunes, made here once, sized for the whole
    run); the original blocks stay frozen and keep serving the base embedding.
    """
    strategy = config.encoder.freeze
    if strategy == "all":
        raise MtstError(
            "encoder.freeze is 'all': every weight is frozen, so training would learn nothing; "
            "use 'encoder' to train the heads only, 'gradual', or 'none'"
        )
    blocks = tuned_branch_blocks(config, model.encoder.num_layers)
    if blocks and strategy != "top":  # top: made below, once top_layers is checked
        model.encoder.add_tuned_branch(blocks)
    set_trainable(model, True)
    set_trainable(model.encoder.transformer, False)  # the base branch never learns
    if strategy == "encoder":
        freeze_encoder(model)
    elif strategy == "top":
        if config.encoder.top_layers >= model.encoder.num_layers:
            raise MtstError(
                f"encoder.top_layers is {config.encoder.top_layers} but the encoder has "
                f"{model.encoder.num_layers} blocks; use freeze: none to train them all"
            )
        unfreeze_top_layers(model, config.encoder.top_layers)
    elif strategy == "gradual":
        unfreeze_top_layers(model, config.encoder.gradual.layers_at(epoch))
    freeze_heads(model, list(config.encoder.frozen_heads) + sorted(stopped))


def set_train_modes(model: MultiTaskModel, config: TrainConfig) -> None:
    """Dropout where weights learn; frozen parts give the fixed, dropout-free features the caches hold."""
    model.train()
    if encoder_always_frozen(config):
        model.encoder.eval()
    elif config.encoder.freeze == "top":
        model.encoder.eval()
        for block in encoder_layers(model)[frozen_blocks(model, config) :]:
            block.train()


def make_optimizer(model: MultiTaskModel, config: TrainConfig, log_vars: nn.Parameter | None):
    """One AdamW with a parameter group per part; each group keeps its configured rate as `base_lr`."""
    decay, no_decay = [], []
    tuned = model.encoder.tuned  # the base branch is frozen and stays out of the optimiser
    for p in tuned.parameters() if tuned is not None else []:
        (no_decay if p.ndim < 2 else decay).append(p)  # no decay for biases and LayerNorm
    wd = config.optimizer.weight_decay
    groups = [
        {"name": "encoder", "params": decay, "lr": config.encoder.lr, "weight_decay": wd},
        {"name": "encoder_no_decay", "params": no_decay, "lr": config.encoder.lr, "weight_decay": 0.0},
    ]
    for t in config.tasks:
        head = list(model.heads[t.name].parameters())
        groups.append({"name": t.name, "params": head, "lr": t.lr, "weight_decay": wd})
    if log_vars is not None:
        groups.append({"name": "loss_weights", "params": [log_vars], "lr": 1e-2, "weight_decay": 0.0})
    for group in groups:
        group["base_lr"] = group["lr"]
    return torch.optim.AdamW(groups)
