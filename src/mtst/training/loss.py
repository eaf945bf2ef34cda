"""The multi-task loss: each task's cross-entropy over the records labelled for it, weighted and summed.

Pure functions of logits and labels, so partial labels, weights and the data-parallel normalisation
can be checked on their own.
"""

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from mtst.data import IGNORE_INDEX


@dataclass
class LossParts:
    total: torch.Tensor  # what backward() runs on
    task_losses: dict[str, torch.Tensor]  # each task's mean loss (this process's share of the global mean)
    weighted: dict[str, torch.Tensor]  # each task's term in `total`, before the data-parallel factor is undone


def multitask_loss(
    logits: dict[str, torch.Tensor],
    gold: dict[str, torch.Tensor],
    weights: dict[str, float],
    labelled: dict[str, int] | None = None,
    world_size: int = 1,
    log_vars: torch.Tensor | None = None,
    positions: dict[str, int] | None = None,
) -> LossParts:
    """The loss of one (global) batch.

    logits: task -> (batch, labels); gold: task -> (batch,) label index, or IGNORE_INDEX where unlabelled.
    weights: the tasks that learn now and their static weights (a task left out, or weighted 0, adds nothing).
    labelled: task -> records labelled for it in the whole global batch (default: in this one). Each process
    divides its sum by that count and multiplies by world_size, which undoes DDP's averaging of gradients:
    the gradient is that of the mean over every labelled record, whichever process holds it.
    log_vars / positions: learned (uncertainty) weights: task i's term is exp(-s_i) * loss + s_i / 2.
    """
    if labelled is None:
        labelled = {name: int((gold[name] != IGNORE_INDEX).sum()) for name in weights}
    # Every head joins the graph with a zero gradient, as DDP needs each trainable parameter in every step:
    # an empty slice, not a product with 0.0, so an inf logit cannot turn the loss into NaN.
    total = sum(v[:0].sum() for v in logits.values())
    task_losses, weighted = {}, {}
    for name, weight in weights.items():
        if not labelled.get(name):
            continue
        summed = F.cross_entropy(logits[name].float(), gold[name], ignore_index=IGNORE_INDEX, reduction="sum")
        loss = summed / labelled[name]
        task_losses[name] = loss
        if log_vars is not None:
            s = log_vars[positions[name]]
            weighted[name] = torch.exp(-s) * loss * world_size
            total = total + weighted[name] + 0.5 * s
        elif weight:  # a weight of 0 masks the task out (0 * inf would be NaN)
            weighted[name] = weight * loss * world_size
            total = total + weighted[name]
    return LossParts(total, task_losses, weighted)


def shard_gradient_squares(parts: LossParts, embeddings: torch.Tensor, world_size: int = 1) -> dict[str, float]:
    """Each weighted task's squared gradient norm at this process's embeddings.

    The shards' rows are disjoint, so summing these over processes and taking the root gives the norm of
    the whole global batch's gradient (not the mean of the shards' norms).
    """
    squares = {}
    for name, value in parts.weighted.items():
        (g,) = torch.autograd.grad(value / world_size, embeddings, retain_graph=True)
        squares[name] = float(g.double().pow(2).sum())
    return squares
