"""Which parameters learn: freezing the whole network, the encoder, chosen heads, or all but the top layers."""

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
    """The transformer's blocks, bottom first (BERT-style models keep them in encoder.layer)."""
    transformer = model.encoder.transformer
    try:
        return list(transformer.encoder.layer)
    except AttributeError:
        raise MtstError(f"cannot find the layers of a {type(transformer).__name__} to unfreeze") from None


def unfreeze_top_layers(model, k: int) -> None:
    """Make the top k transformer blocks trainable (the rest of the encoder stays frozen).

    k larger than the number of blocks also unfreezes the embeddings: the whole encoder learns.
    """
    layers = encoder_layers(model)
    if k < 0:
        raise MtstError(f"number of layers to unfreeze must be 0 or more, got {k}")
    set_trainable(model.encoder, False)
    for layer in layers[len(layers) - min(k, len(layers)) :]:
        set_trainable(layer, True)
    if k > len(layers):
        set_trainable(model.encoder, True)


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
