"""Dynamic batching: requests that arrive close together share one encoder pass.

A single encoder call on 32 texts costs far less than 32 calls on one text each, so the server
holds a request for at most `wait_ms` to let others join it. The merged batch is bounded by a
token budget (so one batch cannot take unbounded time or memory) and runs in one worker thread,
which keeps the event loop free to accept requests while the model works (torch and onnxruntime
release the GIL). The results are split back per request in order.

The collector task is supervised: if it ever dies (a bug outside a batch's own error handling), every
request it held or that waits is failed at once instead of waiting forever, the error is logged once,
and the collector is restarted; after MAX_DEATHS deaths within DEATH_WINDOW_S it stays down and
`failure` says why (the server's /health then answers 503).
"""

import asyncio
import contextlib
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


class BatchFailed(RuntimeError):
    """The model (or splitting its outputs) failed on the batch that held this request."""

    def __init__(self, err: Exception) -> None:
        super().__init__(f"{type(err).__name__}: {err}")
        self.error_type = type(err).__name__


class CollectorDied(Exception):
    """The batch collector died while this request waited; `restarted` says whether it serves again."""

    def __init__(self, message: str, restarted: bool) -> None:
        super().__init__(message)
        self.restarted = restarted


MAX_DEATHS = 3  # collector deaths within DEATH_WINDOW_S after which it is not restarted again
DEATH_WINDOW_S = 60.0


@dataclass
class _Job:
    texts: list[str]
    tokens: int
    future: asyncio.Future
    arrived: float
    request_id: str | None = None  # named in the log when the batch fails
    embeddings: bool = True  # whether this request needs the served embedding (else only the heads run)


def slice_outputs(outputs: Outputs, start: int, stop: int) -> Outputs:
    """Rows start..stop of a batch's outputs (any backend's Outputs dataclass)."""
    return replace(
        outputs,
        embeddings=None if outputs.embeddings is None else outputs.embeddings[start:stop],
        probabilities={k: v[start:stop] for k, v in outputs.probabilities.items()},
    )


class Batcher:
    """Merges concurrent requests into token-bounded batches run by one worker thread.

    `run(texts, embeddings) -> Outputs` does the model work (embeddings: whether any request in the batch
    needs them); `wait_ms=0` turns merging off (each request runs alone).
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
        self._running: list[_Job] = []  # the batch the collector holds now (failed with it if it dies)
        self._deaths: deque[float] = deque(maxlen=MAX_DEATHS)
        self.restarts = 0
        self.failure: str | None = None  # set once the collector died too often to restart
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
        self._start_collector()

    def _start_collector(self) -> None:
        self._loop_task = asyncio.create_task(self._collect(), name="mtst-batcher")
        self._loop_task.add_done_callback(self._collector_ended)

    def _collector_ended(self, task: asyncio.Task) -> None:
        """Supervision: a collector that ends while the batcher is open has died; nobody may wait on it."""
        if self._closed:
            return
        err = None if task.cancelled() else task.exception()  # retrieving it keeps asyncio from logging it again
        reason = f"{type(err).__name__}: {err}" if err is not None else "it was cancelled"
        now = time.monotonic()
        self._deaths.append(now)
        restart = len(self._deaths) < MAX_DEATHS or now - self._deaths[0] > DEATH_WINDOW_S
        held = self._running + list(self._pending)
        self._running = []
        self._pending.clear()
        self.waiting_texts = self._waiting_tokens = 0
        if restart:
            message = f"the batch collector failed ({reason}) and was restarted; retry the request"
        else:
            self.failure = f"the batch collector failed {MAX_DEATHS} times in {DEATH_WINDOW_S:.0f} s, last: {reason}"
            message = self.failure
        log.error(
            "batch collector died; %d waiting request(s) failed; %s",
            len(held),
            "restarting it" if restart else "not restarting it again",
            exc_info=err,
        )
        for job in held:
            if not job.future.done():
                job.future.set_exception(CollectorDied(message, restart))
        if restart:
            self.restarts += 1
            self._start_collector()

    async def stop(self) -> None:
        """Refuse new work, fail what still waits, and let a running batch finish."""
        self._closed = True
        if self._loop_task is not None and not self._loop_task.done():
            self._loop_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._loop_task
        while self._pending:
            job = self._pending.popleft()
            if not job.future.done():
                job.future.set_exception(ShuttingDown("the server is shutting down"))
        self.waiting_texts = self._waiting_tokens = 0
        await asyncio.get_running_loop().run_in_executor(None, self._executor.shutdown, True)

    async def submit(
        self, texts: Sequence[str], tokens: int, request_id: str | None = None, embeddings: bool = True
    ) -> Outputs:
        """Queue one request's texts (`tokens` in all) and wait for their slice of a batch.

        embeddings=False: this request needs the heads only; a batch computes embeddings if any request in it does.
        """
        if self.failure is not None:
            raise CollectorDied(self.failure, restarted=False)
        if self._closed or self._wakeup is None:
            raise ShuttingDown("the model is not serving (starting up or shutting down)")
        # A request is always let in when nothing waits, so a lone large one is never refused forever.
        if self.waiting_texts and self.waiting_texts + len(texts) > self.max_queue:
            retry = max(1, round(self.waiting_texts * self._seconds_per_text + 0.5))
            raise QueueFull(self.waiting_texts, self.max_queue, retry)
        job = _Job(
            list(texts), tokens, asyncio.get_running_loop().create_future(), time.monotonic(), request_id, embeddings
        )
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
        self._running = batch  # held from the moment a job leaves the queue, so a death fails it too
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
            outputs = await self.call(self._run, texts, any(job.embeddings for job in batch))
            bounds = [0]
            for job in batch:
                bounds.append(bounds[-1] + len(job.texts))
            parts = [slice_outputs(outputs, a, b) for a, b in zip(bounds, bounds[1:], strict=False)]
        except asyncio.CancelledError:  # stop() while this batch ran: nobody may be left waiting
            for job in batch:
                if not job.future.done():
                    job.future.set_exception(ShuttingDown("the server is shutting down"))
            raise
        except Exception as err:  # a bug or a model failure: every request in the batch hears of it
            ids = ", ".join(job.request_id or "?" for job in batch)
            log.exception("batch of %d texts failed (requests %s)", len(texts), ids)
            for job in batch:
                if not job.future.done():
                    job.future.set_exception(BatchFailed(err))
            return
        finally:
            self._running = []
        for job, part in zip(batch, parts, strict=True):
            if not job.future.done():
                job.future.set_result(part)
        elapsed = time.perf_counter() - started
        self._seconds_per_text = 0.8 * self._seconds_per_text + 0.2 * elapsed / len(texts)
        if self._on_batch is not None:
            try:
                self._on_batch(len(texts), tokens)
            except Exception:  # metrics must never cost an answer or the collector
                log.exception("recording a batch's metrics failed")
