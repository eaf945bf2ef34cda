"""Running a job's batches several at a time on a CPU, each on its own share of the cores.

One batch spread over every core leaves cores waiting in the many small steps between the matrix
products (attention softmax, layer norm, GELU, thread hand-offs). Batches side by side, one core
each, keep every core busy: on 2 cores, 2 streams encode 1.15-1.24x (torch) and about 1.1x
(onnxruntime) more texts a second, with the same embeddings (benchmarks/bench_inference.py measures it).

Free of torch, so the ONNX backend can use it too.
"""

import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from mtst.errors import MtstError

# More streams than this buys little and multiplies the activations held at once (each stream up to
# batch x 256 tokens); beyond it, streams get several threads each.
MAX_AUTO_STREAMS = 8

# token_budget_batches: a batch's token budget is batch_size x this. 64 is about the mean length of the app's
# texts, so a batch of typical texts holds batch_size of them.
TOKENS_PER_TEXT = 64
# ... and at most MAX_ROWS texts (or batch_size, if larger): 128 rows fill the matrix units many times over
# (an AMX tile holds 16), and more would only raise the activations a batch holds: at batch_size 256, short
# texts without this cap made a streamed predict's peak memory grow with the input (tests/test_streaming.py).
MAX_ROWS = 128

Result = TypeVar("Result")


def available_cores() -> int:
    """Cores this process may run on (the affinity mask, not the machine's total)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def policy_threads() -> int:
    """CPU threads for this process: the caller's OMP_NUM_THREADS if set, else every core it may run on.

    Under torchrun (LOCAL_WORLD_SIZE > 1) each rank gets its share of the cores, so N ranks use the machine
    once, not N times (torchrun's own default of OMP_NUM_THREADS=1 per rank would leave cores idle).
    """
    cores = available_cores()
    ranks = os.environ.get("LOCAL_WORLD_SIZE", "")
    if ranks.isdigit() and int(ranks) > 1:
        return max(1, cores // int(ranks))
    wanted = os.environ.get("OMP_NUM_THREADS", "")
    if wanted.isdigit() and int(wanted) >= 1:
        return int(wanted)
    return cores


def resolve_streams(streams: int | None, cores: int | None = None) -> int:
    """How many batches run at once: `streams` if given, else one per core (at most MAX_AUTO_STREAMS)."""
    if streams is None:
        return max(1, min(cores or available_cores(), MAX_AUTO_STREAMS))
    if isinstance(streams, bool) or not isinstance(streams, int) or streams < 1:
        raise MtstError(f"streams must be a whole number of at least 1 (or None for one per core), got {streams!r}")
    return streams


def threads_per_stream(streams: int, cores: int | None = None) -> int:
    return max(1, (cores or available_cores()) // streams)


def length_sorted_batches(lengths: Sequence[int], batch_size: int, streams: int = 1) -> list[list[int]]:
    """Indices grouped by token count, longest first, so each batch pads little.

    A job of fewer than `streams` full batches is cut into `streams` smaller ones, so that a single
    request still uses every core.
    """
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise MtstError(f"batch_size must be a whole number of at least 1, got {batch_size!r}")
    order = sorted(range(len(lengths)), key=lambda i: -lengths[i])
    size = max(1, min(batch_size, -(-len(order) // streams)))
    return [order[start : start + size] for start in range(0, len(order), size)]


def token_budget_batches(lengths: Sequence[int], batch_size: int, streams: int = 1) -> list[list[int]]:
    """Like length_sorted_batches, but a batch's size is set by tokens rather than by a count of texts.

    A batch holds as many texts as fit in batch_size x TOKENS_PER_TEXT padded tokens (rows x its longest
    text), at least one and at most max(batch_size, MAX_ROWS): 32 texts of 64 tokens, 8 of 256, 128 of 12.
    Short texts then fill the matrix units with rows (torch bf16 on AMX: about 20% less CPU time than
    batches of 32), long ones hold less memory per batch. A job too small for `streams` batches is cut
    into `streams` equal ones, as before. The ONNX backend keeps batches by count: its dynamic int8 ran 6%
    slower this way (docs/performance.md).
    """
    by_count = length_sorted_batches(lengths, batch_size, streams)
    order = [i for batch in by_count for i in batch]  # longest first
    budget, rows = batch_size * TOKENS_PER_TEXT, max(batch_size, MAX_ROWS)
    batches: list[list[int]] = []
    for i in order:
        batch = batches[-1] if batches else []
        if batch and len(batch) < rows and (len(batch) + 1) * lengths[batch[0]] <= budget:
            batches[-1].append(i)  # the batch's first text is its longest: rows x that is its padded size
        else:
            batches.append([i])
    return by_count if len(batches) < streams <= len(order) else batches


def map_batches(
    work: Callable[[list[int]], Result],
    batches: Sequence[list[int]],
    streams: int,
    thread_setup: Callable[[], None] | None = None,
) -> Iterator[Result]:
    """work(batch) for every batch, in order, at most `streams` at a time on their own threads.

    thread_setup runs once in each new thread (to give it its share of the cores). With one stream
    or one batch, everything runs in the caller's thread, which keeps all its cores.
    """
    if streams <= 1 or len(batches) <= 1:
        yield from map(work, batches)
        return
    with ThreadPoolExecutor(min(streams, len(batches)), initializer=thread_setup) as pool:
        yield from pool.map(work, batches)  # an error in any batch is raised here
