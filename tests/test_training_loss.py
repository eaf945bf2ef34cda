"""The masked multi-task loss on its own: partial labels, weights, and the data-parallel normalisation."""

import math

import torch
import torch.nn.functional as F

from mtst.data import IGNORE_INDEX
from mtst.training.loss import multitask_loss, shard_gradient_squares

X = IGNORE_INDEX


def batch():
    torch.manual_seed(0)
    logits = {"a": torch.randn(6, 3, requires_grad=True), "b": torch.randn(6, 2, requires_grad=True)}
    gold = {"a": torch.tensor([0, 2, X, 1, X, 0]), "b": torch.tensor([X, X, 1, 0, X, X])}
    return logits, gold


def test_each_task_is_the_mean_over_its_labelled_records_only():
    logits, gold = batch()
    parts = multitask_loss(logits, gold, {"a": 1.0, "b": 1.0})
    keep_a, keep_b = gold["a"] != X, gold["b"] != X
    expected_a = F.cross_entropy(logits["a"][keep_a], gold["a"][keep_a])
    expected_b = F.cross_entropy(logits["b"][keep_b], gold["b"][keep_b])
    torch.testing.assert_close(parts.task_losses["a"], expected_a)
    torch.testing.assert_close(parts.task_losses["b"], expected_b)
    torch.testing.assert_close(parts.total, expected_a + expected_b)


def test_static_weights_scale_each_task_and_unlabelled_tasks_add_nothing():
    logits, gold = batch()
    gold["b"] = torch.full((6,), X)
    parts = multitask_loss(logits, gold, {"a": 0.25, "b": 4.0})
    assert set(parts.task_losses) == {"a"}
    torch.testing.assert_close(parts.total, 0.25 * parts.task_losses["a"])


def test_a_task_left_out_or_weighted_zero_cannot_make_the_loss_nan():
    """inf logits in a head that does not learn now: multiplying by 0.0 would give NaN; masking gives 0."""
    logits, gold = batch()
    logits["b"] = torch.full((6, 2), math.inf, requires_grad=True)
    for weights in ({"a": 1.0}, {"a": 1.0, "b": 0.0}):
        parts = multitask_loss(logits, gold, weights)
        assert torch.isfinite(parts.total)
        parts.total.backward()
        assert torch.isfinite(logits["a"].grad).all()
        assert logits["b"].grad is not None and torch.equal(logits["b"].grad, torch.zeros(6, 2))  # in the graph
        logits["a"].grad = logits["b"].grad = None


def test_uncertainty_weights_follow_kendall():
    logits, gold = batch()
    s = torch.tensor([0.5, -1.0], requires_grad=True)
    parts = multitask_loss(logits, gold, {"a": 1.0, "b": 1.0}, log_vars=s, positions={"a": 0, "b": 1})
    la, lb = parts.task_losses["a"], parts.task_losses["b"]
    expected = math.exp(-0.5) * la + 0.25 + math.exp(1.0) * lb - 0.5
    torch.testing.assert_close(parts.total, expected)


def shard_gradients(logits, gold, shards):
    """What DDP does: each process's gradient of its own loss, averaged over the processes."""
    labelled = {n: int((g != X).sum()) for n, g in gold.items()}
    grads = {n: torch.zeros_like(v) for n, v in logits.items()}
    for rows in shards:
        part_logits = {n: v.detach()[rows].requires_grad_(True) for n, v in logits.items()}
        part = multitask_loss(part_logits, {n: g[rows] for n, g in gold.items()}, {"a": 1.0, "b": 2.0}, labelled, 2)
        part.total.backward()
        for n in grads:
            grads[n][rows] += part_logits[n].grad / len(shards)
    return grads


def test_data_parallel_shards_give_the_gradient_of_the_global_mean():
    """Each shard divides by the global labelled count: unevenly labelled shards still weigh each record once."""
    logits, gold = batch()
    whole = multitask_loss(logits, gold, {"a": 1.0, "b": 2.0})
    whole.total.backward()
    # 'a' is labelled once in the first shard and three times in the second.
    grads = shard_gradients(logits, gold, [torch.tensor([0, 2, 4]), torch.tensor([1, 3, 5])])
    for name in logits:
        torch.testing.assert_close(grads[name], logits[name].grad)


def test_gradient_norm_of_the_global_batch_from_the_shards():
    """Sum of the shards' squared norms, then the root: the whole batch's norm (a mean of shard norms is not)."""
    emb = torch.randn(6, 4, requires_grad=True)
    head = torch.nn.Linear(4, 3)
    gold = {"a": torch.tensor([0, 2, X, 1, 1, 0])}
    whole = multitask_loss({"a": head(emb)}, gold, {"a": 1.0})
    (g,) = torch.autograd.grad(whole.weighted["a"], emb)
    labelled = {"a": 5}
    squares = []
    for rows in (torch.tensor([0, 1, 2]), torch.tensor([3, 4, 5])):
        part_emb = emb.detach()[rows].requires_grad_(True)
        part = multitask_loss({"a": head(part_emb)}, {"a": gold["a"][rows]}, {"a": 1.0}, labelled, world_size=2)
        squares.append(shard_gradient_squares(part, part_emb, world_size=2)["a"])
    assert abs(math.sqrt(sum(squares)) - g.norm().item()) < 1e-6
    assert abs(sum(math.sqrt(s) for s in squares) / 2 - g.norm().item()) > 1e-3  # the old, wrong figure
