"""Batches run several at a time on CPU (mtst.streams): same answers, every core busy, nothing left changed."""

import threading
import time

import numpy as np
import pytest
import torch
from test_encoder import varied_texts

from mtst.encoder import SentenceEncoder
from mtst.errors import MtstError
from mtst.streams import MAX_AUTO_STREAMS, length_sorted_batches, map_batches, resolve_streams


def test_batches_cover_every_text_once_longest_first():
    lengths = [5, 40, 12, 12, 3, 90, 7, 33, 21]
    batches = length_sorted_batches(lengths, batch_size=4)
    assert [len(b) for b in batches] == [4, 4, 1]
    flat = [i for b in batches for i in b]
    assert sorted(flat) == list(range(len(lengths)))
    assert [lengths[i] for i in flat] == sorted(lengths, reverse=True)


def test_a_small_job_is_cut_so_every_stream_gets_a_batch():
    assert [len(b) for b in length_sorted_batches([9] * 10, batch_size=32, streams=2)] == [5, 5]
    assert [len(b) for b in length_sorted_batches([9] * 3, batch_size=32, streams=4)] == [1, 1, 1]
    # Big jobs keep full batches.
    assert {len(b) for b in length_sorted_batches([9] * 96, batch_size=32, streams=2)} == {32}


@pytest.mark.parametrize("bad", [0, -2, 1.5, "2", True])
def test_bad_stream_counts_are_refused(bad):
    with pytest.raises(MtstError, match="streams must be a whole number"):
        resolve_streams(bad)


@pytest.mark.parametrize("bad", [0, 2.0])
def test_bad_batch_sizes_are_refused(bad):
    with pytest.raises(MtstError, match="batch_size must be a whole number"):
        length_sorted_batches([3, 4], bad)


def test_default_is_one_stream_per_core_up_to_a_cap():
    assert resolve_streams(None, cores=2) == 2
    assert resolve_streams(None, cores=64) == MAX_AUTO_STREAMS
    assert resolve_streams(3, cores=64) == 3


def test_map_batches_keeps_order_runs_side_by_side_and_raises_errors():
    threads: set[int] = set()
    both_running = threading.Barrier(2, timeout=10)  # passes only if two batches run at the same time

    def work(batch: list[int]) -> int:
        threads.add(threading.get_ident())
        both_running.wait()
        return sum(batch)

    assert list(map_batches(work, [[1], [2, 3], [4], [5, 6]], streams=2)) == [1, 5, 4, 11]
    assert len(threads) == 2 and threading.get_ident() not in threads

    def fail_on_three(batch: list[int]) -> int:
        if 3 in batch:
            raise ValueError("batch with 3")
        return 0

    with pytest.raises(ValueError, match="batch with 3"):
        list(map_batches(fail_on_three, [[1], [3], [4]], streams=2))


@pytest.fixture(scope="module")
def one_stream():
    return SentenceEncoder(streams=1)


@pytest.fixture(scope="module")
def three_streams():
    return SentenceEncoder(streams=3)


def test_streams_give_the_same_embeddings(one_stream, three_streams):
    texts = varied_texts()
    expected = one_stream.encode(texts, batch_size=8)
    np.testing.assert_allclose(three_streams.encode(texts, batch_size=8), expected, atol=1e-6)
    # A job smaller than a batch is split across the streams, and still answers the same.
    np.testing.assert_allclose(three_streams.encode(texts[:5]), expected[:5], atol=1e-6)


@pytest.mark.parametrize("torch_threads", [3, 6])
def test_each_stream_gets_its_share_of_threads_and_the_count_is_restored(three_streams, torch_threads):
    before = torch.get_num_threads()
    seen: dict[int, int] = {}
    lock = threading.Lock()

    def work(index: list[int]) -> None:
        with lock:
            seen[threading.get_ident()] = torch.get_num_threads()
        time.sleep(0.02)  # busy like a real batch, so the pool starts its other threads instead of reusing one

    ids, _ = three_streams.tokenize(varied_texts())
    torch.set_num_threads(torch_threads)  # whatever this machine has: the split is what is checked
    try:
        three_streams.run_batches(ids, 4, work)
        assert 1 < len(seen) <= 3 and threading.get_ident() not in seen
        assert set(seen.values()) == {torch_threads // 3}
        assert torch.get_num_threads() == torch_threads
    finally:
        torch.set_num_threads(before)


def test_a_caller_who_limits_torch_threads_gets_no_more_streams(three_streams):
    before = torch.get_num_threads()
    seen: set[int] = set()
    ids, _ = three_streams.tokenize(varied_texts())
    torch.set_num_threads(1)
    try:
        three_streams.run_batches(ids, 4, lambda index: seen.add(threading.get_ident()))
        assert seen == {threading.get_ident()} and torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)


def test_an_error_in_one_stream_reaches_the_caller_and_threads_are_restored(three_streams, monkeypatch):
    before = torch.get_num_threads()
    real_collate = three_streams.collate

    def collate(ids):
        if len(ids) and len(ids[0]) > 200:
            raise RuntimeError("out of memory in the longest batch")
        return real_collate(ids)

    monkeypatch.setattr(three_streams, "collate", collate)
    with pytest.raises(RuntimeError, match="out of memory"):
        three_streams.encode(varied_texts(), batch_size=4)
    assert torch.get_num_threads() == before
    monkeypatch.undo()
    assert three_streams.encode(["still works"]).shape == (1, 384)


def test_stream_count_is_checked_when_loading(tmp_path):
    with pytest.raises(MtstError, match="streams must be a whole number"):
        SentenceEncoder(streams=0)
