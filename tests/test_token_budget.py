"""Batches set by a token budget (mtst.streams.token_budget_batches): short texts fill the matrix units with
rows, long texts take fewer rows, and the answers do not change."""

import numpy as np
import pytest

from mtst.errors import MtstError
from mtst.streams import MAX_ROWS, TOKENS_PER_TEXT, token_budget_batches


def padded(batch: list[int], lengths: list[int]) -> int:
    return len(batch) * max(lengths[i] for i in batch)


def test_rows_follow_the_token_budget():
    budget = 32 * TOKENS_PER_TEXT
    assert {len(b) for b in token_budget_batches([256] * 40, 32)} == {budget // 256}
    assert len(token_budget_batches([40] * 400, 32)[0]) == budget // 40 > 32  # more rows than the count
    assert len(token_budget_batches([6] * 400, 32)[0]) == MAX_ROWS < budget // 6  # but never past MAX_ROWS
    assert len(token_budget_batches([6] * 400, 256)[0]) == 256  # a larger batch_size is its own cap


def test_every_text_once_longest_first_within_budget():
    rng = np.random.default_rng(0)
    lengths = [int(x) for x in rng.integers(3, 257, size=500)]
    batches = token_budget_batches(lengths, 16)
    flat = [i for b in batches for i in b]
    assert sorted(flat) == list(range(len(lengths)))
    assert [lengths[i] for i in flat] == sorted(lengths, reverse=True)
    assert all(padded(b, lengths) <= 16 * TOKENS_PER_TEXT or len(b) == 1 for b in batches)
    # Greedy: adding the next text would have broken the budget or the row cap.
    for batch in batches[:-1]:
        assert (len(batch) + 1) * lengths[batch[0]] > 16 * TOKENS_PER_TEXT or len(batch) == MAX_ROWS


def test_a_text_longer_than_the_budget_runs_alone():
    assert token_budget_batches([300, 20, 20], batch_size=1) == [[0], [1, 2]]  # budget 64 tokens


def test_a_small_job_still_gives_every_stream_a_batch():
    assert [len(b) for b in token_budget_batches([9] * 10, 32, streams=2)] == [5, 5]
    assert token_budget_batches([], 32) == []
    with pytest.raises(MtstError, match="batch_size must be a whole number"):
        token_budget_batches([3, 4], 0)


def test_encoder_runs_token_budget_batches_with_unchanged_answers(encoder, monkeypatch):
    texts = [f"bogo snacks {i}" for i in range(120)] + ["KROGER #0412\nMILK 2% GAL 3.49\nTOTAL 3.49 " * 12] * 4
    shapes = []
    collate = encoder.collate

    def spy(ids):
        batch = collate(ids)
        shapes.append(tuple(batch["input_ids"].shape))
        return batch

    monkeypatch.setattr(encoder, "collate", spy)
    out = encoder.encode(texts, batch_size=8)
    assert max(rows for rows, _ in shapes) > 8  # the short texts went in batches larger than the count
    assert all(rows * width <= 8 * TOKENS_PER_TEXT or rows == 1 for rows, width in shapes)
    alone = np.concatenate([encoder.encode([t]) for t in texts[:3] + texts[-1:]])
    np.testing.assert_allclose(out[[0, 1, 2, -1]], alone, atol=1e-5)
