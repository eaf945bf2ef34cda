"""HTTP service: OpenAI-compatible embeddings and every head's predictions, a thin shell over the library.

`create_app(settings)` builds the FastAPI app; `run_server(settings)` serves it with uvicorn. The model loads
in the background when the app starts (so `/health` answers 503 until it is ready), and every request's texts
go through one dynamic batcher (mtst.batching) that runs the model on a single worker thread.
"""

import asyncio
import base64
import json
import logging
import re
import secrets
import signal
import threading
import time
from collections.abc import Callable
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import FastAPI, Request, Security
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.security import HTTPBearer
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictStr
from starlette.exceptions import HTTPException

from mtst import __version__
from mtst.backend import BACKENDS
from mtst.batching import Batcher, BatchFailed, CollectorDied, QueueFull, ShuttingDown
from mtst.errors import MtstError
from mtst.streams import available_cores

log = logging.getLogger("mtst")

INLINE_TOKENIZE_CHARS = 4096  # requests up to this size are tokenized on the event loop (well under 1 ms)
OPEN_PATHS = frozenset({"/health", "/"})  # the demo page holds no data; it asks for the key itself
ROUTES = frozenset({"/", "/health", "/info", "/metrics", "/v1/embeddings", "/v1/predict", "/docs", "/openapi.json"})
# Every request gets an id (the caller's X-Request-ID when it is a sane one), sent back in X-Request-ID and named in
# 500 answers and the log, so a failure a client saw can be found in the server log.
REQUEST_ID = ContextVar("mtst_request_id", default="-")
SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")


@dataclass
class ServerSettings:
    """Everything `mtst serve` can be told; checked when built so a bad value fails before the port opens."""

    model: Path
    host: str = "127.0.0.1"
    port: int = 8000
    backend: str = "torch"
    precision: str = "auto"  # mtst.precision: bf16 where native and checked, else fp32
    api_key: str | None = None
    max_batch_tokens: int = 16384
    batch_wait_ms: float = 5.0
    max_queue: int = 4096
    max_texts: int = 256
    max_chars: int = 20000
    # Texts per forward pass inside one merged batch; the model sorts them by length first. On CPU 16 wastes less
    # on padding than 32 and is as fast per text (measured on MiniLM); a GPU may want more.
    encoder_batch_size: int = 16

    def __post_init__(self) -> None:
        self.model = Path(self.model)
        if self.backend not in BACKENDS:
            raise MtstError(f"unknown backend {self.backend!r}; choose one of {', '.join(BACKENDS)}")
        if self.backend != "torch" and self.precision not in ("fp32", "auto"):
            raise MtstError(f"--precision applies to the torch backend only; an {self.backend} export fixes its own")
        if self.api_key is not None and not self.api_key.strip():
            raise MtstError("the API key is empty; give a real key or unset MTST_API_KEY to serve without one")
        for name in ("max_batch_tokens", "max_queue", "max_texts", "max_chars", "encoder_batch_size"):
            if getattr(self, name) < 1:
                raise MtstError(f"{name} must be at least 1, got {getattr(self, name)}")
        if self.batch_wait_ms < 0:
            raise MtstError(f"batch_wait_ms must be 0 (no batching) or more, got {self.batch_wait_ms}")
        if not 0 <= self.port <= 65535:
            raise MtstError(f"port must be between 0 and 65535, got {self.port}")

    @property
    def max_body_bytes(self) -> int:
        # Room for every allowed text fully JSON-escaped (\uXXXX is 6 bytes a character) plus the rest.
        return self.max_texts * (self.max_chars * 6 + 64) + 65536


# --- request and response bodies ------------------------------------------------------------------


def _check_text(text: str) -> str:
    if not text.strip():
        raise ValueError("text is empty or only whitespace; give it some words")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("text is not valid unicode (it holds a lone surrogate)") from None
    return text


Text = Annotated[StrictStr, AfterValidator(_check_text)]
TextList = Annotated[list[Text], Field(min_length=1)]


class EmbeddingRequest(BaseModel):
    """OpenAI's embeddings request; unknown fields (user, dimensions...) are accepted and ignored."""

    input: Text | TextList = Field(description="One text or a list of texts.")
    model: str | None = Field(None, description="Ignored: this server serves one model.")
    encoding_format: Literal["float", "base64"] = Field(
        "float", description="float: lists of numbers; base64: little-endian float32 bytes, as OpenAI sends."
    )


class Embedding(BaseModel):
    object: Literal["embedding"] = "embedding"
    embedding: list[float] | str
    index: int


class Usage(BaseModel):
    prompt_tokens: int
    total_tokens: int


class EmbeddingResponse(BaseModel):
    object: Literal["list"] = "list"
    data: list[Embedding]
    model: str
    usage: Usage


class PredictRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")  # a misspelt field is named, not silently ignored

    texts: TextList = Field(description="The texts to classify.")
    tasks: Annotated[list[StrictStr], Field(min_length=1)] | None = Field(
        None, description="Tasks to answer (default: every head)."
    )
    return_embedding: bool = Field(False, description="Also return each text's embedding.")
    given: dict[StrictStr, StrictStr] | list[dict[StrictStr, StrictStr]] | None = Field(
        None,
        description='Labels the caller knows, e.g. {"text_kind": "search_query"}: one object for every text, '
        "or a list of one per text. They replace the prediction and decide which heads apply.",
    )


class TaskPrediction(BaseModel):
    label: str | None = Field(description="The answer; null where the head abstained or does not apply.")
    score: float = Field(description="The probability of the best label (of the given label, if given).")
    distribution: dict[str, float] = Field(description="Every label's probability, in the task's label order.")
    trained: bool = Field(description="False: the head was never trained and its answer is random.")
    abstained: bool = Field(False, description="True: the confidence is under the task's floor.")
    applies: bool = Field(True, description="False: this text is not of a kind the head answers for.")
    given: bool = Field(False, description="True: the label is the caller's, not a prediction.")


class TextPrediction(BaseModel):
    index: int
    predictions: dict[str, TaskPrediction]
    embedding: list[float] | None = None


class PredictResponse(BaseModel):
    model: str
    results: list[TextPrediction]
    untrained_tasks: list[str] = Field(description="Requested heads that were never trained.")
    usage: Usage


class Health(BaseModel):
    status: Literal["ok", "loading", "failed"]
    detail: str | None = None


class TaskInfo(BaseModel):
    name: str
    labels: list[str]
    trained: bool
    applies_when: dict[str, list[str]] | None = None
    floor: float | None = None


class Limits(BaseModel):
    max_texts: int
    max_chars: int
    max_batch_tokens: int
    batch_wait_ms: float
    max_queue: int


class EmbeddingInfo(BaseModel):
    served: Literal["base", "tuned"] = Field(
        description="base: the original encoder's embedding (all-MiniLM-L6-v2's vector space); tuned: the tuned "
        "branch's, another vector space"
    )
    description: str
    stsb_spearman_x100: float | None = Field(
        description="STS-B test Spearman x100 of the served tuned embedding, measured at save time (null: base, "
        "or not measured)"
    )
    tuned_blocks: int = Field(description="Fine-tuned blocks the heads read (0: the heads read the embedding).")


class Info(BaseModel):
    model: str
    model_path: str
    version: str
    backend: str
    precision: str
    precision_reason: str | None = Field(
        None, description="Why this precision (auto: bf16 only where native and checked)."
    )
    embedding_dim: int
    embedding: EmbeddingInfo
    batching: bool
    tasks: list[TaskInfo]
    limits: Limits


class ErrorBody(BaseModel):
    detail: str


ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorBody, "description": "Missing or wrong API key."},
    413: {"model": ErrorBody, "description": "Too many texts, a text too long, or a body too large."},
    503: {"model": ErrorBody, "description": "Model still loading, or queue full: retry after Retry-After seconds."},
}


# --- metrics ---------------------------------------------------------------------------------------


class Metrics:
    """Prometheus metrics in the app's own registry, so several apps in one process do not collide."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.requests = Counter("mtst_http_requests", "HTTP requests answered", ["route", "status"], registry=r)
        self.errors = Counter(
            "mtst_http_errors", "HTTP requests answered with status >= 400", ["route", "status"], registry=r
        )
        self.latency = Histogram(
            "mtst_http_request_duration_seconds",
            "Time from request to response",
            ["route"],
            registry=r,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
        )
        self.batch_texts = Histogram(
            "mtst_batch_texts",
            "Texts per model batch",
            registry=r,
            buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096),
        )
        self.batch_tokens = Histogram(
            "mtst_batch_tokens",
            "Tokens per model batch",
            registry=r,
            buckets=(16, 64, 256, 1024, 2048, 4096, 8192, 16384, 32768, 65536, 131072),
        )
        self.queue = Gauge("mtst_queue_texts", "Texts waiting for a model batch", registry=r)
        self.collector_restarts = Gauge(
            "mtst_batcher_restarts", "Times the batch collector died and was restarted", registry=r
        )

    def observe_request(self, route: str, status: int, seconds: float) -> None:
        self.requests.labels(route, str(status)).inc()
        if status >= 400:
            self.errors.labels(route, str(status)).inc()
        self.latency.labels(route).observe(seconds)

    def observe_batch(self, texts: int, tokens: int) -> None:
        self.batch_texts.observe(texts)
        self.batch_tokens.observe(tokens)


# --- the service behind the routes -----------------------------------------------------------------


def load_model(settings: ServerSettings):
    """The model, through the one loader of every backend (mtst.backend)."""
    from mtst.backend import load_model as load_backend

    # One batch at a time (on every core but one, below): the server's own batching merges requests, and
    # these settings are the ones docs/serving.md measured.
    model = load_backend(settings.model, settings.backend, settings.precision, streams=1)
    if settings.backend == "torch" and model.device.type == "cpu":
        leave_a_core_for_http()
    return model


def leave_a_core_for_http() -> int:
    """Run torch on one core fewer than this process may use, and return that thread count.

    torch starts a thread per core; the event loop that parses requests and sends answers then competes with
    them for CPU, and a preempted torch thread stalls the rest of its team. On a 16-core machine this took
    batched serving from about 320 to 415-450 requests/s (docs/serving.md); on a busy 2-core one, two torch
    threads ran a single text 20 times slower than one.
    """
    import torch

    cores = available_cores()
    if cores >= 2 and torch.get_num_threads() >= cores:
        torch.set_num_threads(cores - 1)
    return torch.get_num_threads()


class Service:
    """The loaded model, its batcher and the state /health reports."""

    def __init__(self, settings: ServerSettings, model=None) -> None:
        self.settings = settings
        self.model = model  # loaded in the background by start(), unless given (tests share one)
        self.status = "loading"
        self.error: str | None = None
        self.dim = 0
        self.name = settings.model.name or str(settings.model)
        self.metrics = Metrics()
        self.batcher = Batcher(
            lambda texts, embeddings: self.model.run(
                texts, batch_size=settings.encoder_batch_size, embeddings=embeddings
            ),
            max_batch_tokens=settings.max_batch_tokens,
            wait_ms=settings.batch_wait_ms,
            max_queue=settings.max_queue,
            on_batch=self.metrics.observe_batch,
        )
        self.metrics.queue.set_function(lambda: self.batcher.waiting_texts)
        self.metrics.collector_restarts.set_function(lambda: self.batcher.restarts)
        self.on_load_failure: Callable[[], None] | None = None

    async def load(self) -> None:
        try:
            model = self.model if self.model is not None else await asyncio.to_thread(load_model, self.settings)
            # Warm up on the worker thread. The first tokenizer call also fixes its settings; after that it is
            # only read, so counting tokens on other threads while a batch runs is safe.
            await self.batcher.call(model.token_counts, ["warm up"])
            outputs = await self.batcher.call(model.run, ["warm up"])
            self.dim = int(outputs.embeddings.shape[1])
            self.model = model
            self.status = "ok"
            reason = getattr(getattr(model, "encoder", None), "precision_reason", None)
            log.info(
                "model %s loaded (%s backend%s); serving",
                self.settings.model,
                self.settings.backend,
                f", {reason}" if reason else "",
            )
        except Exception as err:  # noqa: BLE001 - any load failure is reported by /health and ends run_server
            self.status, self.error = "failed", f"could not load the model from {self.settings.model}: {err}"
            log.error("%s", self.error)
            if self.on_load_failure is not None:
                self.on_load_failure()

    def health(self) -> Health:
        if self.status == "ok" and self.batcher.failure is not None:
            return Health(status="failed", detail=self.batcher.failure)  # loaded, but nothing runs batches
        return Health(status=self.status, detail=self.error)

    def ready_model(self):
        if self.status != "ok":
            detail = self.error if self.status == "failed" else "the model is still loading"
            raise HTTPException(503, detail, headers={"Retry-After": "5"})
        return self.model

    def check_limits(self, texts: list[str], field: str) -> None:
        s = self.settings
        if len(texts) > s.max_texts:
            raise HTTPException(
                413, f"{field}: {len(texts)} texts given, at most {s.max_texts} per request; split them up"
            )
        for i, text in enumerate(texts):
            if len(text) > s.max_chars:
                raise HTTPException(
                    413, f"{field}[{i}]: {len(text)} characters, at most {s.max_chars} per text; shorten or split it"
                )

    def check_tasks(self, tasks: list[str] | None) -> list[str]:
        model = self.ready_model()
        if tasks is None:
            return list(model.tasks)
        valid = ", ".join(model.tasks)
        errors = [
            {
                "type": "value_error",
                "loc": ("body", "tasks", i),
                "input": name,
                "msg": f"unknown task {name!r}; this model's tasks are: {valid}",
            }
            for i, name in enumerate(tasks)
            if name not in model.tasks
        ]
        if errors:
            raise RequestValidationError(errors)
        return list(dict.fromkeys(tasks))  # each task once, in the caller's order

    def check_given(self, given, n: int) -> None:
        """A 422 naming what is wrong with `given` (unknown task or label, wrong count), before any model work."""
        from mtst.routing import check_given

        try:
            check_given(given, n, self.ready_model().tasks)
        except MtstError as err:
            raise RequestValidationError(
                [{"type": "value_error", "loc": ("body", "given"), "input": given, "msg": str(err)}]
            ) from None

    async def infer(self, texts: list[str], embeddings: bool = True):
        """One batched model pass over texts: (outputs, token count of each text); embeddings=False: heads only."""
        model = self.ready_model()
        if sum(map(len, texts)) <= INLINE_TOKENIZE_CHARS:
            counts = model.token_counts(texts)  # cheaper than a hop to another thread
        else:
            counts = await asyncio.to_thread(model.token_counts, texts)  # keep the event loop free
        request_id = REQUEST_ID.get()
        try:
            outputs = await self.batcher.submit(texts, sum(counts), request_id, embeddings)
        except QueueFull as err:
            raise HTTPException(503, str(err), headers={"Retry-After": str(err.retry_after)}) from None
        except ShuttingDown as err:
            raise HTTPException(503, str(err), headers={"Retry-After": "5"}) from None
        except CollectorDied as err:
            headers = {"Retry-After": "1"} if err.restarted else None
            raise HTTPException(503, f"request {request_id}: {err}", headers=headers) from None
        except BatchFailed as err:  # the batcher logged it with every request id of the batch
            raise HTTPException(
                500, f"request {request_id}: the model failed on its batch ({err.error_type}); see the server log"
            ) from None
        return outputs, counts

    def info(self) -> Info:
        model = self.ready_model()
        s = self.settings
        # What actually runs: an ONNX export's quantisation, else the torch encoder's resolved precision.
        described = model.describe() if hasattr(model, "describe") else {}
        precision = described.get("precision")
        return Info(
            model=self.name,
            model_path=str(s.model.resolve()),
            version=__version__,
            backend=s.backend,
            precision=precision or "fp32",
            precision_reason=getattr(getattr(model, "encoder", None), "precision_reason", None),
            embedding_dim=self.dim,
            embedding=embedding_info(described),
            batching=self.batcher.batching,
            tasks=[
                TaskInfo(
                    name=n,
                    labels=list(t.labels),
                    trained=bool(model.trained.get(n, False)),
                    applies_when={k: list(v) for k, v in t.applies_when.items()} if t.applies_when else None,
                    floor=t.floor,
                )
                for n, t in model.tasks.items()
            ],
            limits=Limits(
                max_texts=s.max_texts,
                max_chars=s.max_chars,
                max_batch_tokens=s.max_batch_tokens,
                batch_wait_ms=s.batch_wait_ms,
                max_queue=s.max_queue,
            ),
        )


def embedding_info(described: dict) -> EmbeddingInfo:
    """Which embedding the model serves, said plainly: a tuned one is never passed off as the base one."""
    served = described.get("embedding", "base")
    stsb = described.get("stsb")
    blocks = int(described.get("tuned_blocks", 0))
    if served == "base":
        text = "the base encoder's own embedding (all-MiniLM-L6-v2's vector space)"
        if blocks:
            text += f"; the heads read a tuned branch of {blocks} blocks computed in the same pass"
    else:
        score = f"STS-B test Spearman x100 {stsb['spearman_x100']:.2f}" if stsb else "STS-B not measured"
        text = f"a TUNED embedding, not the base encoder's vector space ({score})"
    return EmbeddingInfo(
        served=served,
        description=text,
        stsb_spearman_x100=stsb["spearman_x100"] if stsb else None,
        tuned_blocks=blocks,
    )


class AsciiJSONResponse(JSONResponse):
    """JSON with non-ASCII escaped: a 422 that echoes a lone surrogate back must still be valid UTF-8."""

    def render(self, content: Any) -> bytes:
        return json.dumps(content, ensure_ascii=True, allow_nan=False, separators=(",", ":")).encode("ascii")


# --- the gate every request passes ------------------------------------------------------------------


class Gate:
    """Pure ASGI middleware: API key, body size cap and request metrics, before any route runs."""

    def __init__(self, app, service: Service) -> None:
        self.app = app
        self.service = service
        key = service.settings.api_key
        self.key = key.encode() if key else None

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        route = path if path in ROUTES else "other"  # unknown paths share one label: bounded cardinality
        started = time.perf_counter()
        status = 500  # what an exception escaping the app becomes
        given = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
        request_id = given if SANE_REQUEST_ID.fullmatch(given) else secrets.token_hex(8)
        REQUEST_ID.set(request_id)  # this request's own task and context: seen by the routes and the 500 handler

        async def send_noting_status(message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message = {**message, "headers": [*message.get("headers", []), (b"x-request-id", request_id.encode())]}
            await send(message)

        try:
            refusal = self.refusal(scope, path)
            if refusal is not None:
                await refusal(scope, receive, send_noting_status)
            else:
                await self.app(scope, self.capped(receive), send_noting_status)
        finally:
            self.service.metrics.observe_request(route, status, time.perf_counter() - started)

    def refusal(self, scope, path: str) -> Response | None:
        headers = dict(scope["headers"])
        if self.key is not None and path not in OPEN_PATHS:
            scheme, _, given = headers.get(b"authorization", b"").partition(b" ")
            if scheme.lower() != b"bearer" or not secrets.compare_digest(given.strip(), self.key):
                return JSONResponse(
                    {"detail": "missing or wrong API key: send 'Authorization: Bearer KEY'"},
                    401,
                    headers={"WWW-Authenticate": "Bearer"},
                )
        length = headers.get(b"content-length", b"0")
        if length.isdigit() and int(length) > self.service.settings.max_body_bytes:
            return JSONResponse(
                {
                    "detail": f"request body of {int(length)} bytes is over the limit of "
                    f"{self.service.settings.max_body_bytes}"
                },
                413,
            )
        return None

    def capped(self, receive):
        """receive() that refuses a body (chunked, so without a length up front) growing past the cap."""
        limit = self.service.settings.max_body_bytes
        seen = 0

        async def receive_capped():
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > limit:
                raise HTTPException(413, f"request body is over the limit of {limit} bytes")
            return message

        return receive_capped


# --- the app ----------------------------------------------------------------------------------------


def create_app(settings: ServerSettings, model=None) -> FastAPI:
    """The FastAPI app. `model`: an already-loaded model to serve instead of loading settings.model."""
    service = Service(settings, model)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        service.batcher.start()
        loading = asyncio.create_task(service.load())  # in the background: /health says 503 meanwhile
        try:
            yield
        finally:
            loading.cancel()
            await service.batcher.stop()

    app = FastAPI(
        title="mtst",
        version=__version__,
        description="One sentence encoder shared by several classification heads: embeddings and predictions.",
        lifespan=lifespan,
    )
    app.state.service = service
    app.add_middleware(Gate, service=service)
    # Documents the key in the OpenAPI schema; the Gate is what enforces it (on every route but /health and /).
    guarded = [Security(HTTPBearer(auto_error=False))] if settings.api_key else []
    page = resources.files("mtst").joinpath("static/index.html").read_text(encoding="utf-8")

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, err: RequestValidationError) -> JSONResponse:
        return AsciiJSONResponse({"detail": jsonable_encoder(err.errors())}, 422)

    @app.exception_handler(MtstError)
    async def user_error(request: Request, err: MtstError) -> JSONResponse:
        return JSONResponse({"detail": str(err)}, 422)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, err: Exception) -> JSONResponse:
        request_id = REQUEST_ID.get()
        log.exception("unexpected error on %s (request %s)", request.url.path, request_id)
        return JSONResponse(
            {"detail": f"internal error: {type(err).__name__} (request {request_id}); see the server log"},
            500,
            headers={"X-Request-ID": request_id},
        )

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    async def demo_page() -> HTMLResponse:
        return HTMLResponse(page)

    @app.get("/health", response_model=Health, responses={503: {"model": Health, "description": "Not ready."}})
    async def health() -> JSONResponse:
        state = service.health()
        return JSONResponse(state.model_dump(exclude_none=True), 200 if state.status == "ok" else 503)

    @app.get("/info", response_model=Info, responses=ERRORS, dependencies=guarded)
    async def info() -> Info:
        return service.info()

    @app.get(
        "/metrics",
        response_class=Response,
        dependencies=guarded,
        responses={200: {"content": {"text/plain": {}}, "description": "Prometheus text format."}, **ERRORS},
    )
    async def metrics() -> Response:
        return Response(generate_latest(service.metrics.registry), media_type=CONTENT_TYPE_LATEST)

    @app.post("/v1/embeddings", response_model=EmbeddingResponse, responses=ERRORS, dependencies=guarded)
    async def embeddings(body: EmbeddingRequest) -> EmbeddingResponse:
        texts = [body.input] if isinstance(body.input, str) else body.input
        service.check_limits(texts, "input")
        outputs, counts = await service.infer(texts)
        if body.encoding_format == "base64":
            vectors = [base64.b64encode(row.astype("<f4").tobytes()).decode("ascii") for row in outputs.embeddings]
        else:
            vectors = outputs.embeddings.tolist()
        return EmbeddingResponse(
            data=[Embedding(embedding=v, index=i) for i, v in enumerate(vectors)],
            model=service.name,
            usage=Usage(prompt_tokens=sum(counts), total_tokens=sum(counts)),
        )

    @app.post("/v1/predict", response_model=PredictResponse, responses=ERRORS, dependencies=guarded)
    async def predict(body: PredictRequest) -> PredictResponse:
        tasks = service.check_tasks(body.tasks)
        service.check_limits(body.texts, "texts")
        service.check_given(body.given, len(body.texts))
        outputs, counts = await service.infer(body.texts, embeddings=body.return_embedding)
        model = service.model
        trained = {t: bool(model.trained.get(t, False)) for t in tasks}
        vectors = outputs.embeddings.tolist() if body.return_embedding else None
        results = [
            TextPrediction(
                index=i,
                # Every head ran in the one batched pass (routing may need any); answer only the tasks asked for.
                predictions={t: TaskPrediction(**per_task[t].to_dict(), trained=trained[t]) for t in tasks},
                embedding=vectors[i] if vectors is not None else None,
            )
            for i, per_task in enumerate(model.predictions(outputs, body.given))
        ]
        return PredictResponse(
            model=service.name,
            results=results,
            untrained_tasks=[t for t in tasks if not trained[t]],
            usage=Usage(prompt_tokens=sum(counts), total_tokens=sum(counts)),
        )

    return app


def _exit_cleanly(signum, frame) -> None:
    raise SystemExit(0)


def run_server(settings: ServerSettings) -> None:
    """Serve until interrupted; raises MtstError if the model cannot be loaded."""
    import uvicorn

    if not settings.model.is_dir():
        raise MtstError(f"model folder {settings.model} does not exist; pass a saved mtst model folder")
    if settings.backend == "torch":
        from mtst.device import apply_thread_policy

        apply_thread_policy()  # once, here at the entry point; the ONNX backend never imports torch
    app = create_app(settings)
    server = uvicorn.Server(
        uvicorn.Config(app, host=settings.host, port=settings.port, log_level="info", timeout_graceful_shutdown=10)
    )
    service: Service = app.state.service

    def give_up() -> None:
        server.should_exit = True

    service.on_load_failure = give_up  # a server that can never answer should not linger
    # uvicorn stops gracefully on SIGTERM (in-flight requests finish), then raises the signal again for the handler
    # it found. This one makes that a clean exit, status 0: a stop that was asked for is not a failure.
    on_main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _exit_cleanly) if on_main_thread else None
    try:
        server.run()
    finally:
        if on_main_thread:
            signal.signal(signal.SIGTERM, previous)
    if service.status == "failed":
        raise MtstError(service.error or "the model failed to load")
