"""The HTTP service in-process (FastAPI TestClient) and the dynamic batcher on its own."""

import asyncio
import base64
import json
import sys
import threading
import time
import types

import numpy as np
import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from test_server_helpers import TRAINED_TASK, loaded_model, saved_model_dir

from mtst.batching import Batcher, QueueFull, ShuttingDown
from mtst.errors import MtstError
from mtst.outputs import Outputs
from mtst.server import ServerSettings, create_app, run_server

TEXTS = [
    "Earn 500 bonus points on any Tide purchase this weekend",
    "huggies size 4",
    "KROGER #0412\nMILK 2% GAL 3.49\nTOTAL 3.49",
    "Someone logged into my account and redeemed all my points",
]


@pytest.fixture(scope="session")
def model_dir(tmp_path_factory):
    return saved_model_dir(tmp_path_factory.getbasetemp())


@pytest.fixture(scope="session")
def model(model_dir):
    return loaded_model(model_dir)


def wait_ready(client: TestClient, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while client.get("/health").status_code != 200:
        assert time.monotonic() < deadline, "the app never became healthy"
        time.sleep(0.05)


def open_client(app, **kwargs) -> TestClient:
    client = TestClient(app, **kwargs)
    client.__enter__()  # runs the lifespan: the batcher starts and the model is handed over
    wait_ready(client)
    return client


@pytest.fixture(scope="module")
def client(model_dir, model):
    c = open_client(create_app(ServerSettings(model=model_dir), model=model))
    yield c
    c.__exit__(None, None, None)


class Wrapped:
    """A model that behaves like the real one except where a test overrides a method."""

    def __init__(self, model) -> None:
        self._model = model

    def __getattr__(self, name):
        return getattr(self._model, name)


# --- the batcher on its own ------------------------------------------------------------------------


def fake_run(calls: list[list[str]], fail_on: str | None = None, asked: list[bool] | None = None):
    """A model stand-in: each text's 'embedding' is its length, so the split back can be checked."""

    def run(texts: list[str], embeddings: bool = True) -> Outputs:
        calls.append(list(texts))
        if asked is not None:
            asked.append(embeddings)
        if fail_on in texts:
            raise RuntimeError("model broke")
        lengths = np.array([[len(t)] for t in texts], dtype=np.float32)
        return Outputs(lengths, {"task": np.hstack([lengths, -lengths])})

    return run


async def with_batcher(batcher: Batcher, work):
    batcher.start()
    try:
        return await work()
    finally:
        await batcher.stop()


def test_batcher_merges_requests_arriving_together_and_splits_results_back():
    calls: list[list[str]] = []
    batcher = Batcher(fake_run(calls), max_batch_tokens=1000, wait_ms=50, max_queue=100)
    requests = [["a"], ["bb", "ccc"], ["dddd"]]

    async def work():
        return await asyncio.gather(*(batcher.submit(texts, 1) for texts in requests))

    results = asyncio.run(with_batcher(batcher, work))
    assert calls == [["a", "bb", "ccc", "dddd"]]  # one model call for all three requests
    for texts, out in zip(requests, results, strict=True):
        assert out.embeddings[:, 0].tolist() == [len(t) for t in texts]
        assert out.probabilities["task"][:, 1].tolist() == [-len(t) for t in texts]


def test_a_batch_computes_embeddings_only_when_a_request_in_it_wants_them():
    calls: list[list[str]] = []
    asked: list[bool] = []
    batcher = Batcher(fake_run(calls, asked=asked), max_batch_tokens=1000, wait_ms=50, max_queue=100)

    async def work():
        labels_only = await batcher.submit(["a"], 1, embeddings=False)
        mixed = await asyncio.gather(batcher.submit(["bb"], 1, embeddings=False), batcher.submit(["ccc"], 1))
        return labels_only, mixed

    labels_only, mixed = asyncio.run(with_batcher(batcher, work))
    assert calls == [["a"], ["bb", "ccc"]] and asked == [False, True]
    assert [out.embeddings[:, 0].tolist() for out in mixed] == [[2], [3]]


def test_batch_wait_zero_runs_each_request_alone():
    calls: list[list[str]] = []
    batcher = Batcher(fake_run(calls), max_batch_tokens=1000, wait_ms=0, max_queue=100)

    async def work():
        return await asyncio.gather(*(batcher.submit([t], 1) for t in ["a", "b", "c"]))

    asyncio.run(with_batcher(batcher, work))
    assert sorted(calls) == [["a"], ["b"], ["c"]]


def test_token_budget_bounds_a_merged_batch():
    calls: list[list[str]] = []
    batcher = Batcher(fake_run(calls), max_batch_tokens=10, wait_ms=50, max_queue=100)

    async def work():
        return await asyncio.gather(*(batcher.submit([t], 4) for t in "abcde"))

    asyncio.run(with_batcher(batcher, work))
    assert calls == [["a", "b"], ["c", "d"], ["e"]]  # 2 x 4 tokens fit in 10, a third would not


def test_full_queue_refuses_with_a_retry_hint_but_a_lone_big_request_gets_in():
    calls: list[list[str]] = []
    batcher = Batcher(fake_run(calls), max_batch_tokens=1000, wait_ms=0, max_queue=2)

    async def work():
        # All four arrive before the batcher takes any: two fit the queue, two are refused.
        outcomes = await asyncio.gather(*(batcher.submit([t], 1) for t in "abcd"), return_exceptions=True)
        big = await batcher.submit(["x"] * 5, 5)  # more than max_queue, but nothing else waits
        return outcomes, big

    outcomes, big = asyncio.run(with_batcher(batcher, work))
    refused = [o for o in outcomes if isinstance(o, QueueFull)]
    assert len(refused) == 2 and all(o.retry_after >= 1 for o in refused)
    assert "retry" in str(refused[0])
    assert len(big.embeddings) == 5


def test_a_failing_batch_fails_its_requests_and_the_batcher_keeps_going():
    calls: list[list[str]] = []
    batcher = Batcher(fake_run(calls, fail_on="boom"), max_batch_tokens=1000, wait_ms=0, max_queue=100)

    async def work():
        with pytest.raises(RuntimeError, match="model broke"):
            await batcher.submit(["boom"], 1)
        return await batcher.submit(["fine"], 1)

    assert asyncio.run(with_batcher(batcher, work)).embeddings.tolist() == [[4.0]]


def test_a_request_abandoned_while_waiting_is_not_run():
    calls: list[list[str]] = []
    batcher = Batcher(fake_run(calls), max_batch_tokens=1000, wait_ms=30, max_queue=100)

    async def work():
        gone = asyncio.create_task(batcher.submit(["gone"], 1))
        await asyncio.sleep(0)  # let it join the queue
        gone.cancel()
        return await batcher.submit(["kept"], 1)

    asyncio.run(with_batcher(batcher, work))
    assert calls == [["kept"]]


def test_stopped_batcher_refuses_new_work():
    batcher = Batcher(fake_run([]), max_batch_tokens=10, wait_ms=0, max_queue=10)

    async def work():
        batcher.start()
        await batcher.stop()
        await batcher.submit(["late"], 1)

    with pytest.raises(ShuttingDown):
        asyncio.run(work())


# --- settings ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"backend": "tensorflow"}, "unknown backend"),
        ({"backend": "onnx", "precision": "bf16"}, "torch backend only"),
        ({"api_key": "  "}, "API key is empty"),
        ({"max_texts": 0}, "max_texts must be at least 1"),
        ({"max_queue": 0}, "max_queue must be at least 1"),
        ({"batch_wait_ms": -1}, "batch_wait_ms"),
        ({"port": 70000}, "port"),
    ],
)
def test_bad_settings_are_refused_with_a_clear_message(tmp_path, changes, message):
    with pytest.raises(MtstError, match=message):
        ServerSettings(model=tmp_path, **changes)


def test_run_server_refuses_a_missing_model_folder(tmp_path):
    with pytest.raises(MtstError, match="does not exist"):
        run_server(ServerSettings(model=tmp_path / "nowhere", port=0))


def test_run_server_stops_and_reports_when_the_model_cannot_load(tmp_path):
    # The folder exists, so the server starts; the background load then fails and ends it.
    with pytest.raises(MtstError, match="could not load the model"):
        run_server(ServerSettings(model=tmp_path, port=0))


# --- lifecycle ---------------------------------------------------------------------------------------


def test_health_is_503_while_the_model_loads_then_200(model_dir, model, monkeypatch):
    release = threading.Event()

    def slow_load(settings):
        assert settings.model == model_dir
        release.wait(30)
        return model

    monkeypatch.setattr("mtst.server.load_model", slow_load)
    with TestClient(create_app(ServerSettings(model=model_dir))) as c:
        assert c.get("/health").status_code == 503
        assert c.get("/health").json() == {"status": "loading"}
        busy = c.post("/v1/predict", json={"texts": ["hi"]})
        assert busy.status_code == 503 and busy.headers["Retry-After"] == "5"
        assert "loading" in busy.json()["detail"]
        release.set()
        wait_ready(c)
        assert c.get("/health").json() == {"status": "ok"}
        assert c.post("/v1/predict", json={"texts": ["hi"]}).status_code == 200


def test_a_model_that_fails_to_load_is_reported_not_hidden(tmp_path):
    with TestClient(create_app(ServerSettings(model=tmp_path / "missing"))) as c:
        deadline = time.monotonic() + 30
        while c.get("/health").json()["status"] == "loading":
            assert time.monotonic() < deadline
            time.sleep(0.05)
        health = c.get("/health")
        assert health.status_code == 503
        assert health.json()["status"] == "failed" and "missing" in health.json()["detail"]
        assert c.post("/v1/embeddings", json={"input": "hi"}).status_code == 503


def test_onnx_backend_is_loaded_lazily_through_its_module(model_dir, model, monkeypatch):
    loaded_from = []

    class OnnxModel:
        @staticmethod
        def load(path, **options):
            loaded_from.append(path)
            return model

    monkeypatch.setitem(sys.modules, "mtst.onnx_backend", types.SimpleNamespace(OnnxModel=OnnxModel))
    c = open_client(create_app(ServerSettings(model=model_dir, backend="onnx")))
    try:
        assert loaded_from == [model_dir]
        assert c.get("/info").json()["backend"] == "onnx"
        assert c.post("/v1/predict", json={"texts": ["hi"]}).status_code == 200
    finally:
        c.__exit__(None, None, None)


# --- routes -------------------------------------------------------------------------------------------


def test_info_describes_model_tasks_and_limits(client, model_dir, model):
    info = client.get("/info").json()
    assert info["model_path"] == str(model_dir.resolve())
    assert info["backend"] == "torch" and info["precision"] == "fp32" and info["version"] == "0.1.0"
    assert info["embedding_dim"] == 384 and info["batching"] is True
    assert [(t["name"], tuple(t["labels"])) for t in info["tasks"]] == [(n, s.labels) for n, s in model.tasks.items()]
    assert {t["name"]: t["trained"] for t in info["tasks"]} == {n: n == TRAINED_TASK for n in model.tasks}
    assert info["limits"] == {
        "max_texts": 256,
        "max_chars": 20000,
        "max_batch_tokens": 16384,
        "batch_wait_ms": 5.0,
        "max_queue": 4096,
    }


def test_predict_matches_the_library_and_flags_untrained_heads(client, model):
    response = client.post("/v1/predict", json={"texts": TEXTS})
    assert response.status_code == 200
    body = response.json()
    expected = model.predict(TEXTS)
    assert [r["index"] for r in body["results"]] == list(range(len(TEXTS)))
    for got, want in zip(body["results"], expected, strict=True):
        assert list(got["predictions"]) == list(model.tasks)
        assert got["embedding"] is None
        for task, p in want.items():
            g = got["predictions"][task]
            assert g["label"] == p.label
            assert g["score"] == pytest.approx(p.score, abs=1e-5)
            assert list(g["distribution"]) == list(p.distribution)
            assert list(g["distribution"].values()) == pytest.approx(list(p.distribution.values()), abs=1e-5)
            assert g["trained"] is (task == TRAINED_TASK)
    assert body["untrained_tasks"] == [t for t in model.tasks if t != TRAINED_TASK]
    assert body["usage"]["prompt_tokens"] == sum(model.token_counts(TEXTS)) == body["usage"]["total_tokens"]


def test_predict_answers_only_the_tasks_asked_and_can_return_embeddings(client, model):
    body = client.post(
        "/v1/predict", json={"texts": TEXTS[:2], "tasks": ["query_intent", TRAINED_TASK], "return_embedding": True}
    ).json()
    assert [list(r["predictions"]) for r in body["results"]] == [["query_intent", TRAINED_TASK]] * 2
    assert body["untrained_tasks"] == ["query_intent"]
    got = np.array([r["embedding"] for r in body["results"]])
    np.testing.assert_allclose(got, model.encoder.encode(TEXTS[:2]), atol=1e-5)


def test_embeddings_match_encoder_encode(client, model):
    response = client.post("/v1/embeddings", json={"input": TEXTS, "model": "anything"})
    assert response.status_code == 200
    body = response.json()
    assert body["object"] == "list" and body["model"] == "server-model"
    assert [(d["object"], d["index"]) for d in body["data"]] == [("embedding", i) for i in range(len(TEXTS))]
    got = np.array([d["embedding"] for d in body["data"]])
    np.testing.assert_allclose(got, model.encoder.encode(TEXTS), atol=1e-5)
    assert body["usage"] == {
        "prompt_tokens": sum(model.token_counts(TEXTS)),
        "total_tokens": sum(model.token_counts(TEXTS)),
    }


def test_embeddings_take_a_single_string_and_base64_like_openai(client, model):
    single = client.post("/v1/embeddings", json={"input": TEXTS[1]}).json()
    assert len(single["data"]) == 1
    packed = client.post("/v1/embeddings", json={"input": TEXTS[1], "encoding_format": "base64"}).json()
    vector = np.frombuffer(base64.b64decode(packed["data"][0]["embedding"]), dtype="<f4")
    np.testing.assert_allclose(vector, single["data"][0]["embedding"], atol=1e-7)
    np.testing.assert_allclose(vector, model.encoder.encode([TEXTS[1]])[0], atol=1e-5)


def test_demo_page_is_served_at_the_root(client):
    page = client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    for marker in ('id="texts"', 'id="run"', 'id="api-key"', "/v1/predict", "return_embedding"):
        assert marker in page.text


def test_openapi_schema_lists_every_route_with_its_bodies(client):
    schema = client.get("/openapi.json").json()
    assert set(schema["paths"]) == {"/health", "/info", "/metrics", "/v1/embeddings", "/v1/predict"}
    assert set(schema["paths"]["/v1/predict"]["post"]["responses"]) >= {"200", "401", "413", "422", "503"}
    components = schema["components"]["schemas"]
    assert {"PredictRequest", "PredictResponse", "EmbeddingRequest", "EmbeddingResponse", "Info"} <= set(components)
    assert set(components["PredictRequest"]["properties"]) == {"texts", "tasks", "return_embedding", "given"}


def metric_samples(client: TestClient) -> dict:
    samples = {}
    for family in text_string_to_metric_families(client.get("/metrics").text):
        for s in family.samples:
            samples[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return samples


def test_metrics_count_requests_errors_latency_and_batches(client):
    before = metric_samples(client)
    client.post("/v1/predict", json={"texts": TEXTS})
    client.post("/v1/predict", json={"texts": []})
    after = metric_samples(client)

    def grew(name, **labels):
        key = (name, tuple(sorted(labels.items())))
        return after.get(key, 0) - before.get(key, 0)

    assert grew("mtst_http_requests_total", route="/v1/predict", status="200") == 1
    assert grew("mtst_http_requests_total", route="/v1/predict", status="422") == 1
    assert grew("mtst_http_errors_total", route="/v1/predict", status="422") == 1
    assert grew("mtst_http_errors_total", route="/v1/predict", status="200") == 0
    assert grew("mtst_http_request_duration_seconds_count", route="/v1/predict") == 2
    assert grew("mtst_batch_texts_count") == 1 and grew("mtst_batch_texts_sum") == len(TEXTS)
    assert grew("mtst_batch_tokens_sum") > len(TEXTS)
    assert after[("mtst_queue_texts", ())] == 0


# --- bad input -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("route", "body", "loc", "words"),
    [
        ("/v1/predict", {"texts": []}, ["body", "texts"], "at least 1"),
        ("/v1/predict", {}, ["body", "texts"], "required"),
        ("/v1/predict", {"texts": "one string"}, ["body", "texts"], "list"),
        ("/v1/predict", {"texts": ["fine", 5]}, ["body", "texts", 1], "string"),
        ("/v1/predict", {"texts": ["fine", " \n\t"]}, ["body", "texts", 1], "empty or only whitespace"),
        ("/v1/predict", {"texts": ["fine"], "tasks": []}, ["body", "tasks"], "at least 1"),
        ("/v1/predict", {"texts": ["fine"], "return_embeddings": True}, ["body", "return_embeddings"], "not permitted"),
        ("/v1/embeddings", {"input": []}, ["body", "input"], "at least 1"),
        ("/v1/embeddings", {"input": ""}, ["body", "input"], "empty"),
        ("/v1/embeddings", {"input": [1, 2, 3]}, ["body", "input"], "string"),
        ("/v1/embeddings", {"input": "hi", "encoding_format": "int8"}, ["body", "encoding_format"], "float"),
    ],
)
def test_invalid_bodies_get_422_naming_the_field(client, route, body, loc, words):
    response = client.post(route, json=body)
    assert response.status_code == 422
    errors = response.json()["detail"]
    assert any(e["loc"][: len(loc)] == loc and words in e["msg"] for e in errors), errors


def test_unknown_task_gets_422_listing_the_valid_ones(client, model):
    response = client.post("/v1/predict", json={"texts": ["hi"], "tasks": [TRAINED_TASK, "sentiment"]})
    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["loc"] == ["body", "tasks", 1]
    assert "sentiment" in error["msg"] and all(name in error["msg"] for name in model.tasks)


def test_malformed_json_and_invalid_unicode_get_422(client):
    as_json = {"Content-Type": "application/json"}
    broken = client.post("/v1/predict", content=b'{"texts": ["a",', headers=as_json)
    assert broken.status_code == 422 and broken.json()["detail"][0]["type"] == "json_invalid"
    surrogate = client.post("/v1/predict", content=b'{"texts": ["\\ud800"]}', headers=as_json)
    assert surrogate.status_code == 422 and "unicode" in surrogate.json()["detail"][0]["msg"]
    assert client.post("/v1/predict", json={"texts": ["still here"]}).status_code == 200


def test_too_many_texts_get_413_and_the_server_still_answers(client):
    response = client.post("/v1/predict", json={"texts": ["hello"] * 10_000})
    assert response.status_code == 413
    assert "10000 texts" in response.json()["detail"] and "256" in response.json()["detail"]
    assert client.post("/v1/embeddings", json={"input": ["hello"] * 257}).status_code == 413
    assert client.get("/health").json() == {"status": "ok"}
    assert client.post("/v1/predict", json={"texts": ["hello"]}).status_code == 200


def test_a_text_over_max_chars_gets_413_naming_it(client):
    response = client.post("/v1/predict", json={"texts": ["short", "x" * 20_001]})
    assert response.status_code == 413
    assert response.json()["detail"].startswith("texts[1]: 20001 characters")
    assert client.post("/v1/predict", json={"texts": ["ok", "word " * 3999]}).status_code == 200  # 19995 chars


def test_oversized_bodies_are_refused_with_or_without_a_length(model_dir, model):
    settings = ServerSettings(model=model_dir, max_texts=2, max_chars=10)
    c = open_client(create_app(settings, model=model))
    try:
        big = json.dumps({"texts": ["x" * (settings.max_body_bytes + 10)]}).encode()
        assert c.post("/v1/predict", content=big, headers={"Content-Type": "application/json"}).status_code == 413
        half = len(big) // 2
        chunked = c.post(
            "/v1/predict", content=iter([big[:half], big[half:]]), headers={"Content-Type": "application/json"}
        )
        assert chunked.status_code == 413 and "over the limit" in chunked.json()["detail"]
        assert c.post("/v1/predict", json={"texts": ["fine"]}).status_code == 200
    finally:
        c.__exit__(None, None, None)


def test_an_unexpected_error_becomes_a_500_json_and_the_server_lives_on(model_dir, model):
    broken = Wrapped(model)

    def predictions(outputs, given=None):
        raise RuntimeError("a bug")

    broken.predictions = predictions
    c = open_client(create_app(ServerSettings(model=model_dir), model=broken), raise_server_exceptions=False)
    try:
        response = c.post("/v1/predict", json={"texts": ["hi"]})
        assert response.status_code == 500
        request_id = response.headers["X-Request-ID"]
        assert response.json() == {"detail": f"internal error: RuntimeError (request {request_id}); see the server log"}
        assert c.post("/v1/embeddings", json={"input": "hi"}).status_code == 200
        assert ("mtst_http_errors_total", (("route", "/v1/predict"), ("status", "500"))) in metric_samples(c)
    finally:
        c.__exit__(None, None, None)


# --- API key ---------------------------------------------------------------------------------------------


def test_api_key_guards_every_route_but_health_and_the_page(model_dir, model):
    c = open_client(create_app(ServerSettings(model=model_dir, api_key="s3cret"), model=model))
    try:
        assert c.get("/health").status_code == 200
        assert c.get("/").status_code == 200
        calls = [
            ("get", "/info", None),
            ("get", "/metrics", None),
            ("get", "/openapi.json", None),
            ("get", "/docs", None),
            ("post", "/v1/predict", {"texts": ["hi"]}),
            ("post", "/v1/embeddings", {"input": "hi"}),
        ]
        for method, path, body in calls:
            for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic s3cret"}):
                refused = c.request(method, path, json=body, headers=headers)
                assert refused.status_code == 401, (path, headers)
                assert refused.headers["WWW-Authenticate"] == "Bearer"
                assert "API key" in refused.json()["detail"]
            assert c.request(method, path, json=body, headers={"Authorization": "Bearer s3cret"}).status_code == 200
        schema = c.get("/openapi.json", headers={"Authorization": "Bearer s3cret"}).json()
        assert "HTTPBearer" in schema["components"]["securitySchemes"]
    finally:
        c.__exit__(None, None, None)


def test_serving_on_cpu_leaves_one_core_to_the_event_loop(monkeypatch):
    import torch

    from mtst.server import leave_a_core_for_http

    before = torch.get_num_threads()
    monkeypatch.setattr("os.sched_getaffinity", lambda pid: {0, 1, 2, 3})
    try:
        torch.set_num_threads(4)
        assert leave_a_core_for_http() == 3
        torch.set_num_threads(2)  # already fewer threads than cores: left alone
        assert leave_a_core_for_http() == 2
    finally:
        torch.set_num_threads(before)
