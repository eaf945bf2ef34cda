"""Which parameters learn: freezing the whole network, the encoder, chosen heads, or all but the top layers.

Encoder blocks never learn in place: the blocks a strategy trains are the tuned branch's copies
(mtst.branch), so the base branch keeps serving the original embedding.
"""

from collections.abc import Iterable

from torch import nn

from mtst.errors import MtstError


def set_trainable(module: nn.Module, trainable: bool) -> None:
    for p in module.parameters():
        p.requires_grad_(trainable)


def freeze_all(model: nn.Module) -> None:
    set_trainable(model, False)


def freeze_encoder(model) -> None:
    """Heads only: the shared encoder keeps its weights."""
    set_trainable(model.encoder, False)


def freeze_heads(model, names: Iterable[str]) -> None:
    """Freeze chosen heads, e.g. to add a task without touching the others."""
    for name in names:
        if name not in model.heads:
            raise MtstError(f"cannot freeze head {name!r}: this model has heads {', '.join(model.heads)}")
        set_trainable(model.heads[name], False)


def encoder_layers(model) -> list[nn.Module]:
    """The blocks the heads' features pass through, bottom first: the shared trunk's, then the tuned branch's."""
    transformer = model.encoder.transformer
    if not hasattr(getattr(transformer, "encoder", None), "layer"):
        raise MtstError(f"cannot find the layers of a {type(transformer).__name__} to unfreeze")
    return model.encoder.feature_blocks()


def unfreeze_top_layers(model, k: int) -> None:
    """Make the top k blocks of the heads' path trainable: tuned copies, grown to k blocks if needed.

    k larger than the number of blocks also unfreezes a tuned copy of the embeddings layer: the whole heads'
    path learns. The base branch (the original blocks) always stays frozen.
    """
    if k < 0:
        raise MtstError(f"number of layers to unfreeze must be 0 or more, got {k}")
    set_trainable(model.encoder, False)
    if k == 0:
        return
    model.encoder.add_tuned_branch(k)
    layers = encoder_layers(model)
    for layer in layers[len(layers) - min(k, len(layers)) :]:
        set_trainable(layer, True)
    if k > len(layers):
        set_trainable(model.encoder.tuned, True)


def count_parameters(module: nn.Module, trainable_only: bool = False) -> int:
    return sum(p.numel() for p in module.parameters() if p.requires_grad or not trainable_only)


def trainable_report(model) -> dict:
    """Trainable and total parameter counts: the encoder, each head, and the whole model."""
    return {
        "encoder": {
            "trainable": count_parameters(model.encoder, True),
            "total": count_parameters(model.encoder),
        },
        "heads": {
            name: {"trainable": count_parameters(head, True), "total": count_parameters(head)}
            for name, head in model.heads.items()
        },
        "trainable": count_parameters(model, True),
        "total": count_parameters(model),
    }
