"""The service as users meet it: real uvicorn servers on loopback ports, real HTTP, fuzzed by schemathesis."""

import asyncio
import json
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from hypothesis.configuration import set_hypothesis_home_dir
from schemathesis.checks import not_a_server_error
from test_server_helpers import TRAINED_TASK, cli_server, loaded_model, saved_model_dir, thread_server
from typer.testing import CliRunner

from mtst import cli
from mtst.server import ServerSettings, create_app

# Hypothesis keeps caches in ./.hypothesis by default; keep the checkout clean.
set_hypothesis_home_dir(Path(tempfile.gettempdir()) / "mtst-hypothesis")

KEY = "e2e-key"
AUTH = {"Authorization": f"Bearer {KEY}"}
TEXTS = ["Double points on every grocery receipt until Sunday", "reset password", "Happy Friday everyone!"]


@pytest.fixture(scope="session")
def model_dir(tmp_path_factory):
    return saved_model_dir(tmp_path_factory.getbasetemp())


@pytest.fixture(scope="module")
def url(model_dir, tmp_path_factory):
    """`python -m mtst serve`, its API key given the way a deployment would: MTST_API_KEY."""
    log = tmp_path_factory.mktemp("serve") / "serve.log"
    # Exact fp32: the tests below compare served numbers with the library's fp32 ones to 1e-5, and the default
    # (--precision auto) picks bf16 on a CPU with AMX or AVX-512 BF16.
    args = ("--batch-wait-ms", "5", "--precision", "fp32")
    with cli_server(model_dir, *args, env={"MTST_API_KEY": KEY}, log=log) as base:
        yield base


def test_health_is_open_and_ok(url):
    response = httpx.get(f"{url}/health")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


def test_the_key_from_the_environment_guards_the_other_routes(url, model_dir):
    assert httpx.get(f"{url}/info").status_code == 401
    assert httpx.post(f"{url}/v1/predict", json={"texts": ["hi"]}).status_code == 401
    info = httpx.get(f"{url}/info", headers=AUTH).json()
    assert info["model_path"] == str(model_dir.resolve()) and info["batching"] is True
    assert {t["name"]: t["trained"] for t in info["tasks"]}[TRAINED_TASK] is True


def test_embeddings_equal_the_mtst_embed_command(url, model_dir):
    response = httpx.post(f"{url}/v1/embeddings", json={"input": TEXTS}, headers=AUTH, timeout=30)
    assert response.status_code == 200
    served = np.array([d["embedding"] for d in response.json()["data"]])
    # `mtst embed` in-process (the same command function, without a second interpreter start-up).
    printed = CliRunner().invoke(cli.app, ["embed", "--json", "--model", str(model_dir), *TEXTS])
    assert printed.exit_code == 0, printed.output
    np.testing.assert_allclose(served, np.array(json.loads(printed.stdout)), atol=1e-5)


def test_predict_equals_the_library(url, model_dir):
    response = httpx.post(f"{url}/v1/predict", json={"texts": TEXTS}, headers=AUTH, timeout=30)
    assert response.status_code == 200
    for got, want in zip(response.json()["results"], loaded_model(model_dir).predict(TEXTS), strict=True):
        for task, p in want.items():
            assert got["predictions"][task]["label"] == p.label
            assert got["predictions"][task]["score"] == pytest.approx(p.score, abs=1e-5)
            assert got["predictions"][task]["trained"] is (task == TRAINED_TASK)


def test_demo_page_and_metrics_are_served(url):
    page = httpx.get(f"{url}/")
    assert page.status_code == 200 and 'id="texts"' in page.text
    httpx.post(f"{url}/v1/predict", json={"texts": []}, headers=AUTH)
    metrics = httpx.get(f"{url}/metrics", headers=AUTH)
    assert metrics.status_code == 200
    assert 'mtst_http_errors_total{route="/v1/predict",status="422"}' in metrics.text
    assert 'mtst_http_requests_total{route="/health",status="200"}' in metrics.text


def test_bad_requests_are_answered_and_the_server_carries_on(url):
    too_many = httpx.post(f"{url}/v1/predict", json={"texts": ["hello"] * 10_000}, headers=AUTH, timeout=30)
    assert too_many.status_code == 413 and "10000 texts" in too_many.json()["detail"]
    empty = httpx.post(f"{url}/v1/predict", json={"texts": []}, headers=AUTH)
    assert empty.status_code == 422 and empty.json()["detail"][0]["loc"] == ["body", "texts"]
    as_json = {**AUTH, "Content-Type": "application/json"}
    garbage = httpx.post(f"{url}/v1/predict", content=b"{not json", headers=as_json)
    assert garbage.status_code == 422
    assert httpx.get(f"{url}/health").status_code == 200
    assert httpx.post(f"{url}/v1/predict", json={"texts": ["still up"]}, headers=AUTH).status_code == 200


# --- schemathesis: whatever the schema allows, the server never answers 5xx --------------------------


# The schema is the one the served app publishes (checked below); building it needs no model or server.
SCHEMA_APP = create_app(ServerSettings(model="model", api_key=KEY))
schema = schemathesis.openapi.from_dict(SCHEMA_APP.openapi())


def test_the_fuzzed_schema_is_the_served_one(url):
    assert httpx.get(f"{url}/openapi.json", headers=AUTH).json() == SCHEMA_APP.openapi()


@schema.parametrize()
@settings(max_examples=10, deadline=None, suppress_health_check=list(HealthCheck), database=None)
def test_fuzzed_requests_never_get_a_server_error(case, url):
    case.call_and_validate(base_url=url, headers=AUTH, checks=[not_a_server_error], timeout=30)


# --- batching and back-pressure on a real server (a slowed-down model makes the timing certain) ------


class SlowModel:
    """The real model, but every model call takes at least `delay` seconds longer."""

    def __init__(self, model, delay: float) -> None:
        self._model = model
        self.delay = delay

    def __getattr__(self, name):
        return getattr(self._model, name)

    def run(self, texts, tasks=None, batch_size=32, embeddings=True):
        time.sleep(self.delay)
        return self._model.run(texts, tasks, batch_size, embeddings)


async def fire(url: str, n: int) -> list[httpx.Response]:
    async with httpx.AsyncClient(base_url=url, timeout=60) as client:
        return await asyncio.gather(*(client.post("/v1/predict", json={"texts": [f"text {i}"]}) for i in range(n)))


def test_a_full_queue_answers_503_with_retry_after(model_dir):
    settings_ = ServerSettings(model=model_dir, max_queue=2, batch_wait_ms=0)
    with thread_server(create_app(settings_, model=SlowModel(loaded_model(model_dir), 0.3))) as base:
        responses = asyncio.run(fire(base, 12))
        codes = [r.status_code for r in responses]
        refused = [r for r in responses if r.status_code == 503]
        assert refused and 200 in codes and set(codes) == {200, 503}, codes
        assert all(int(r.headers["Retry-After"]) >= 1 for r in refused)
        assert "server busy" in refused[0].json()["detail"]
        assert httpx.post(f"{base}/v1/predict", json={"texts": ["after the rush"]}, timeout=30).status_code == 200


def test_concurrent_requests_share_batches_on_a_real_server(model_dir):
    settings_ = ServerSettings(model=model_dir, batch_wait_ms=20)
    with thread_server(create_app(settings_, model=SlowModel(loaded_model(model_dir), 0.2))) as base:
        responses = asyncio.run(fire(base, 16))
        assert [r.status_code for r in responses] == [200] * 16
        labels = [r.json()["results"][0]["predictions"][TRAINED_TASK]["label"] for r in responses]
        expected = [p[TRAINED_TASK].label for p in loaded_model(model_dir).predict([f"text {i}" for i in range(16)])]
        assert labels == expected  # each request got its own slice back
        metrics = httpx.get(f"{base}/metrics").text
        batches = next(line for line in metrics.splitlines() if line.startswith("mtst_batch_texts_count"))
        # Warm-up is not counted; 16 requests went through in a few merged batches, not 16 single ones.
        assert float(batches.split()[-1]) <= 4, batches
