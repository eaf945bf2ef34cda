"""Dynamic batching: requests that arrive close together share one encoder pass.

A single encoder call on 32 texts costs far less than 32 calls on one text each, so the server
holds a request for at most `wait_ms` to let others join it. The merged batch is bounded by a
token budget (so one batch cannot take unbounded time or memory) and runs in one worker thread,
which keeps the event loop free to accept requests while the model works (torch and onnxruntime
release the GIL). The results are split back per request in order.
"""

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace

from mtst.outputs import Outputs  # torch-free, so the ONNX backend serves without importing torch

log = logging.getLogger("mtst")


class QueueFull(Exception):
    """More texts are waiting than the queue allows; the caller should retry later."""

    def __init__(self, waiting: int, limit: int, retry_after: int) -> None:
        super().__init__(f"server busy: {waiting} texts are waiting (limit {limit}); retry in {retry_after} s")
        self.retry_after = retry_after


class ShuttingDown(Exception):
    """The batcher was stopped before this request ran."""


@dataclass
class _Job:
    texts: list[str]
    tokens: int
    future: asyncio.Future
    arrived: float


def slice_outputs(outputs: Outputs, start: int, stop: int) -> Outputs:
    """Rows start..stop of a batch's outputs (any backend's Outputs dataclass)."""
    return replace(
        outputs,
        embeddings=outputs.embeddings[start:stop],
        probabilities={k: v[start:stop] for k, v in outputs.probabilities.items()},
    )


class Batcher:
    """Merges concurrent requests into token-bounded batches run by one worker thread.

    `run(texts) -> Outputs` does the model work; `wait_ms=0` turns merging off (each request runs alone).
    `on_batch(n_texts, n_tokens)` is called for every batch run (for metrics).
    """

    def __init__(
        self,
        run: Callable[[list[str]], Outputs],
        *,
        max_batch_tokens: int,
        wait_ms: float,
        max_queue: int,
        on_batch: Callable[[int, int], None] | None = None,
    ) -> None:
        if max_batch_tokens < 1 or max_queue < 1 or wait_ms < 0:
            raise ValueError("max_batch_tokens and max_queue must be positive and wait_ms not negative")
        self._run = run
        self.max_batch_tokens = max_batch_tokens
        self.wait_s = wait_ms / 1000
        self.max_queue = max_queue
        self._on_batch = on_batch
        self._pending: deque[_Job] = deque()
        self.waiting_texts = 0  # texts queued but not yet in a running batch
        self._waiting_tokens = 0
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="mtst-model")
        self._wakeup: asyncio.Event | None = None
        self._loop_task: asyncio.Task | None = None
        self._closed = False
        self._seconds_per_text = 0.01  # running estimate, only used to suggest a Retry-After

    @property
    def batching(self) -> bool:
        return self.wait_s > 0

    async def call(self, fn: Callable, *args):
        """Run fn(*args) on the model's worker thread (warm-up, anything that must not race a batch)."""
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn, *args)

    def start(self) -> None:
        self._wakeup = asyncio.Event()
        self._loop_task = asyncio.create_task(self._collect(), name="mtst-batcher")

    async def stop(self) -> None:
        """Refuse new work, fail what still waits, and let a running batch finish."""
        self._closed = True
        if self._loop_task is not None:
            self._loop_task.cancel()
            try:
                await self._loop_task
            except asyncio.CancelledError:
                pass
        while self._pending:
            job = self._pending.popleft()
            if not job.future.done():
                job.future.set_exception(ShuttingDown("the server is shutting down"))
        self.waiting_texts = self._waiting_tokens = 0
        await asyncio.get_running_loop().run_in_executor(None, self._executor.shutdown, True)

    async def submit(self, texts: Sequence[str], tokens: int) -> Outputs:
        """Queue one request's texts (`tokens` in all) and wait for their slice of a batch."""
        if self._closed or self._wakeup is None:
            raise ShuttingDown("the model is not serving (starting up or shutting down)")
        # A request is always let in when nothing waits, so a lone large one is never refused forever.
        if self.waiting_texts and self.waiting_texts + len(texts) > self.max_queue:
            retry = max(1, round(self.waiting_texts * self._seconds_per_text + 0.5))
            raise QueueFull(self.waiting_texts, self.max_queue, retry)
        job = _Job(list(texts), tokens, asyncio.get_running_loop().create_future(), time.monotonic())
        self._pending.append(job)
        self.waiting_texts += len(job.texts)
        self._waiting_tokens += tokens
        self._wakeup.set()
        return await job.future

    async def _collect(self) -> None:
        while True:
            await self._wakeup.wait()
            self._wakeup.clear()
            if not self._pending:
                continue
            if self.batching:
                # Wait for company until the oldest request has waited wait_ms or the budget is full.
                deadline = self._pending[0].arrived + self.wait_s
                while self._waiting_tokens < self.max_batch_tokens:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        break
                    try:
                        await asyncio.wait_for(self._wakeup.wait(), left)
                    except TimeoutError:
                        break
                    self._wakeup.clear()
            batch = self._take()
            if self._pending:
                self._wakeup.set()  # more is waiting: go round again at once
            if batch:
                await self._run_batch(batch)

    def _take(self) -> list[_Job]:
        batch: list[_Job] = []
        tokens = 0
        while self._pending:
            job = self._pending[0]
            if not job.future.done() and batch and tokens + job.tokens > self.max_batch_tokens:
                break
            self._pending.popleft()
            self.waiting_texts -= len(job.texts)
            self._waiting_tokens -= job.tokens
            if job.future.done():  # the client went away while waiting
                continue
            batch.append(job)
            tokens += job.tokens
            if not self.batching:
                break
        return batch

    async def _run_batch(self, batch: list[_Job]) -> None:
        texts = [t for job in batch for t in job.texts]
        tokens = sum(job.tokens for job in batch)
        started = time.perf_counter()
        try:
            outputs = await self.call(self._run, texts)
        except asyncio.CancelledError:  # stop() while this batch ran: nobody may be left waiting
            for job in batch:
                if not job.future.done():
                    job.future.set_exception(ShuttingDown("the server is shutting down"))
            raise
        except Exception as err:  # a bug or a model failure: every request in the batch hears of it
            log.exception("batch of %d texts failed", len(texts))
            for job in batch:
                if not job.future.done():
                    job.future.set_exception(err)
            return
        elapsed = time.perf_counter() - started
        self._seconds_per_text = 0.8 * self._seconds_per_text + 0.2 * elapsed / len(texts)
        if self._on_batch is not None:
            self._on_batch(len(texts), tokens)
        start = 0
        for job in batch:
            stop = start + len(job.texts)
            if not job.future.done():
                job.future.set_result(slice_outputs(outputs, start, stop))
            start = stop
