"""The tuned branch: fine-tuned copies of the encoder's top blocks, beside the original ones.

Fine-tuning for the heads must not move the served embedding. So the blocks a strategy trains are
copies; the originals stay as the base branch and keep giving all-MiniLM-L6-v2's own embedding. A saved
model keeps the base encoder folder exactly as shipped (sentence-transformers opens it) and writes the
copies beside it:

    tuned_branch.safetensors   the copied blocks (keys blocks.N.*) and, for full fine-tuning, embeddings.*
    branch.json                how many top blocks were copied, whether the embeddings layer was, which
                               embedding is served (base or tuned) and, when tuned, its STS-B score

Folders saved before the branches existed hold one encoder with its top blocks tuned: `adopt_legacy`
compares it with the shipped weights and splits it into the two branches, so its heads answer as before.
"""

import copy
import json
import logging
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file
from torch import nn

from mtst.errors import MtstError

log = logging.getLogger("mtst")

BASE = "base"
TUNED = "tuned"
EMBEDDINGS = (BASE, TUNED)
BRANCH_FILE = "branch.json"
WEIGHTS_FILE = "tuned_branch.safetensors"


class TunedBranch(nn.Module):
    """Copies of the top blocks (bottom first) and, when the whole encoder is tuned, of the embeddings layer."""

    def __init__(self, blocks: list[nn.Module], embeddings: nn.Module | None = None) -> None:
        super().__init__()
        self.blocks = nn.ModuleList(blocks)
        self.embeddings = embeddings


def _copy(module: nn.Module, config) -> nn.Module:
    """A deep copy that shares the transformer's config, so switching its attention kernel switches the copy's."""
    clone = copy.deepcopy(module)
    for part in clone.modules():
        if hasattr(part, "config"):
            part.config = config
    return clone


def grow_branch(current: TunedBranch | None, transformer: nn.Module, blocks: int) -> TunedBranch:
    """A branch tuning at least the top `blocks` blocks (more than there are: the embeddings layer too).

    New copies come from the base blocks just below the current branch, which is exactly what the heads'
    path ran through there: growing a branch never changes what the heads read.
    """
    layers = list(transformer.encoder.layer)
    n = len(layers)
    if blocks < 1:
        raise MtstError(f"a tuned branch needs at least one block, got {blocks}")
    whole = blocks > n
    have = 0 if current is None else len(current.blocks)
    has_embeddings = current is not None and current.embeddings is not None
    if current is not None and min(blocks, n) <= have and (has_embeddings or not whole):
        return current
    config = transformer.config
    added = [_copy(block, config) for block in layers[n - max(min(blocks, n), have) : n - have]]
    kept = [] if current is None else list(current.blocks)
    if has_embeddings:
        embeddings = current.embeddings
    else:
        embeddings = _copy(transformer.embeddings, config) if whole else None
    return TunedBranch(added + kept, embeddings).to(next(transformer.parameters()).device)


def save_branch(encoder, folder: Path) -> None:
    """Write the tuned branch (if any) and branch.json into a model folder."""
    tuned = encoder.tuned
    info = {
        "tuned_blocks": 0 if tuned is None else len(tuned.blocks),
        "tuned_embeddings_layer": tuned is not None and tuned.embeddings is not None,
        "embedding": encoder.embedding,
        "stsb": encoder.stsb,
    }
    if tuned is not None:
        state = {k: v.detach().cpu().contiguous().clone() for k, v in tuned.state_dict().items()}
        save_file(state, folder / WEIGHTS_FILE)
    (folder / BRANCH_FILE).write_text(json.dumps(info, indent=2) + "\n")


def load_branch(encoder, folder: Path) -> None:
    """Rebuild the encoder's tuned branch and served embedding from a model folder."""
    path = folder / BRANCH_FILE
    if not path.is_file():
        adopt_legacy(encoder, folder)
        return
    try:
        info = json.loads(path.read_text())
        blocks, whole = int(info["tuned_blocks"]), bool(info["tuned_embeddings_layer"])
        embedding = info.get("embedding", BASE)
    except (ValueError, KeyError, TypeError) as err:
        raise MtstError(f"{path} is broken ({err}); re-save the model") from err
    if embedding not in EMBEDDINGS:
        raise MtstError(f"{path}: embedding must be base or tuned, got {embedding!r}; re-save the model")
    encoder.embedding, encoder.stsb = embedding, info.get("stsb")
    if not blocks:
        return
    encoder.add_tuned_branch(encoder.num_layers + 1 if whole else blocks)
    try:
        state = load_file(folder / WEIGHTS_FILE, device=str(encoder.device))
        encoder.tuned.load_state_dict(state)
    except (OSError, RuntimeError) as err:
        raise MtstError(f"could not load the tuned branch from {folder / WEIGHTS_FILE}: {err}") from err


def adopt_legacy(encoder, folder: Path) -> None:
    """A folder saved before branches: split its one encoder into the shipped base and a tuned branch.

    Only the top blocks differ from the shipped weights: they become the tuned branch, the shipped ones the
    base branch, and the heads read exactly what they read before. If the embeddings layer or every block
    differs, the base embedding is lost: that encoder's own (tuned) embedding is served, with a warning.
    """
    from transformers import AutoModel

    from mtst.encoder import default_encoder_path

    base_path = default_encoder_path()
    if base_path.resolve() == folder.resolve() or not (base_path / "config.json").is_file():
        return
    saved = encoder.transformer.state_dict()
    try:
        base = AutoModel.from_pretrained(base_path, local_files_only=True).state_dict()
    except (OSError, ValueError):
        return
    if set(base) != set(saved) or any(base[k].shape != saved[k].shape for k in base):
        return  # another architecture: this folder is its own base encoder
    differ = {k for k in base if not torch.equal(base[k].to(saved[k].device), saved[k])}
    if not differ:
        return
    n = encoder.num_layers
    moved = {int(k.split(".")[2]) for k in differ if k.startswith("encoder.layer.")}
    lowest = min(moved, default=n)
    if any(not k.startswith("encoder.layer.") for k in differ) or lowest == 0:
        encoder.embedding = TUNED
        log.warning(
            "%s was saved before mtst kept the base embedding and its whole encoder was fine-tuned: it serves "
            "that tuned embedding, not all-MiniLM-L6-v2's; re-train it to serve the base one",
            folder,
        )
        return
    encoder.add_tuned_branch(n - lowest)  # copies of the saved (tuned) top blocks
    with torch.no_grad():
        for key in differ:
            saved[key].copy_(base[key])  # the base branch gets the shipped weights back
    log.info("%s: blocks %d-%d were tuned; they now form the tuned branch beside the base ones", folder, lowest, n - 1)
