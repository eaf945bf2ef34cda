"""Reliability of the service: a supervised batcher, model failures, and faults against the real server.

The batcher and model-failure tests run in-process; the rest start the real `python -m mtst serve` (through
tests/fault_server.py, which can slow the model down or kill the batch collector) on a tiny model.
"""

import asyncio
import contextlib
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import numpy as np
import pytest
from test_server_helpers import free_port, loaded_model, saved_model_dir, thread_server, wait_healthy

from mtst.batching import Batcher, BatchFailed, CollectorDied
from mtst.outputs import Outputs
from mtst.server import ServerSettings, create_app

FAULT_SERVER = Path(__file__).with_name("fault_server.py")
PATIENCE_S = 20  # every client call here gives up after this; a hang fails the test instead of stalling it


# --- the batcher on its own: whatever breaks, nobody waits forever ------------------------------------


def lengths_run(texts: list[str], embeddings: bool = True) -> Outputs:
    lengths = np.array([[len(t)] for t in texts], dtype=np.float32)
    return Outputs(lengths, {"task": np.hstack([lengths, -lengths])})


def run_with(batcher: Batcher, work):
    async def main():
        batcher.start()
        try:
            return await asyncio.wait_for(work(), 5)  # before the fix these hung: wait_for turns that into a fail
        finally:
            await batcher.stop()

    return asyncio.run(main())


def test_a_failing_metrics_hook_costs_no_answer_and_does_not_stop_the_batcher():
    def broken_metrics(texts: int, tokens: int) -> None:
        raise ValueError("metrics bug")

    batcher = Batcher(lengths_run, max_batch_tokens=100, wait_ms=0, max_queue=10, on_batch=broken_metrics)

    async def work():
        return [await batcher.submit([text], 1) for text in ("a", "bb")]

    first, second = run_with(batcher, work)
    assert first.embeddings.tolist() == [[1.0]] and second.embeddings.tolist() == [[2.0]]
    assert batcher.restarts == 0


def test_outputs_that_cannot_be_split_fail_their_batch_and_the_next_one_is_served():
    def run(texts: list[str], embeddings: bool = True) -> Outputs:
        if texts == ["bad"]:
            return Outputs(np.zeros((1, 1), dtype=np.float32), {"task": None})  # slicing it raises TypeError
        return lengths_run(texts)

    batcher = Batcher(run, max_batch_tokens=100, wait_ms=0, max_queue=10)

    async def work():
        with pytest.raises(BatchFailed, match="TypeError"):
            await batcher.submit(["bad"], 1)
        return await batcher.submit(["good"], 1)

    assert run_with(batcher, work).embeddings.tolist() == [[4.0]]


def test_a_dead_collector_fails_what_it_held_at_once_and_is_restarted(caplog):
    batcher = Batcher(lengths_run, max_batch_tokens=100, wait_ms=0, max_queue=10)
    take = batcher._take
    deaths = iter([True])

    def take_once_broken():
        if next(deaths, False):
            raise RuntimeError("collector bug")
        return take()

    batcher._take = take_once_broken

    async def work():
        with pytest.raises(CollectorDied, match="restarted") as died:
            await batcher.submit(["lost"], 1)
        assert died.value.restarted and batcher.waiting_texts == 0
        return await batcher.submit(["served"], 1)

    with caplog.at_level(logging.ERROR, logger="mtst"):
        assert run_with(batcher, work).embeddings.tolist() == [[6.0]]
    assert batcher.restarts == 1 and batcher.failure is None
    [record] = [r for r in caplog.records if "collector died" in r.getMessage()]
    assert record.exc_info[1].args == ("collector bug",)  # logged once, with the cause


def test_a_collector_that_keeps_dying_stays_down_and_says_why(caplog):
    batcher = Batcher(lengths_run, max_batch_tokens=100, wait_ms=0, max_queue=10)

    def always_broken():
        raise RuntimeError("collector bug")

    batcher._take = always_broken

    async def work():
        outcomes = []
        for text in ("a", "b", "c"):
            with pytest.raises(CollectorDied) as died:
                await batcher.submit([text], 1)
            outcomes.append(died.value.restarted)
        with pytest.raises(CollectorDied, match="3 times"):  # refused at once, nothing left to run it
            await batcher.submit(["d"], 1)
        return outcomes

    with caplog.at_level(logging.ERROR, logger="mtst"):
        assert run_with(batcher, work) == [True, True, False]
    assert "3 times" in batcher.failure and "collector bug" in batcher.failure
    assert sum("collector died" in r.getMessage() for r in caplog.records) == 3


# --- a model error inside a batch, in-process with a model that fails on demand -------------------------


class FailsOnBoom:
    """The real model, except that a batch holding the text 'boom' raises."""

    def __init__(self, model) -> None:
        self._model = model

    def __getattr__(self, name):
        return getattr(self._model, name)

    def run(self, texts, *args, **kwargs):
        if "boom" in texts:
            raise RuntimeError("the model broke")
        return self._model.run(texts, *args, **kwargs)


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    return saved_model_dir(tmp_path_factory.getbasetemp())


def test_a_model_error_fails_every_request_of_its_batch_naming_each_and_later_ones_are_served(model_dir, caplog):
    model = FailsOnBoom(loaded_model(model_dir))
    # A long batch wait: the three requests below surely share one batch.
    app = create_app(ServerSettings(model=model_dir, batch_wait_ms=300), model=model)

    async def three_in_one_batch(url: str) -> list[httpx.Response]:
        async with httpx.AsyncClient(base_url=url, timeout=PATIENCE_S) as client:
            return await asyncio.gather(
                *(
                    client.post("/v1/predict", json={"texts": [text]}, headers={"X-Request-ID": rid})
                    for text, rid in (("boom", "req-boom"), ("fine", "req-fine"), ("also fine", "req-also"))
                )
            )

    with caplog.at_level(logging.ERROR, logger="mtst"), thread_server(app) as url:
        responses = asyncio.run(three_in_one_batch(url))
        for response, rid in zip(responses, ("req-boom", "req-fine", "req-also"), strict=True):
            assert response.status_code == 500
            assert response.headers["X-Request-ID"] == rid
            assert response.json()["detail"] == (
                f"request {rid}: the model failed on its batch (RuntimeError); see the server log"
            )
        later = httpx.post(f"{url}/v1/predict", json={"texts": ["after the failure"]}, timeout=PATIENCE_S)
        assert later.status_code == 200 and len(later.headers["X-Request-ID"]) == 16  # an id made up for it
        odd = httpx.get(f"{url}/health", headers={"X-Request-ID": "no spaces or\tcontrols allowed"})
        assert odd.headers["X-Request-ID"] != "no spaces or\tcontrols allowed"
    [failed] = [r for r in caplog.records if "batch of 3 texts failed" in r.getMessage()]
    assert all(rid in failed.getMessage() for rid in ("req-boom", "req-fine", "req-also"))


# --- the real server, with faults ------------------------------------------------------------------------


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory) -> Path:
    """A tiny random BERT (the real tokenizer) with the default heads: the real server starts and runs fast."""
    import torch
    from transformers import AutoTokenizer, BertConfig, BertModel

    from mtst.encoder import SentenceEncoder, default_encoder_path
    from mtst.model import MultiTaskModel

    base = tmp_path_factory.mktemp("tiny-server-model")
    tokenizer = AutoTokenizer.from_pretrained(default_encoder_path(), local_files_only=True)
    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=tokenizer.vocab_size,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=128,
    )
    BertModel(config).save_pretrained(base / "encoder")
    tokenizer.save_pretrained(base / "encoder")
    return MultiTaskModel(SentenceEncoder(base / "encoder")).save(base / "model")


class Served:
    def __init__(self, url: str, proc: subprocess.Popen, log: Path) -> None:
        self.url, self.proc, self.log = url, proc, log

    def rss_mb(self) -> float:
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        raise RuntimeError("no VmRSS")


@contextmanager
def fault_server(model_dir: Path, log: Path, faults: str = "", *args: str) -> Iterator[Served]:
    """tests/fault_server.py serve ... on a free loopback port; always stopped afterwards."""
    port = free_port()
    command = [sys.executable, str(FAULT_SERVER), "serve", "--model", str(model_dir), "--port", str(port), *args]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "MTST_TEST_FAULTS": faults}
    with open(log, "w") as out:
        proc = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env)
        try:
            url = f"http://127.0.0.1:{port}"
            wait_healthy(url, timeout=180, proc=proc)
            yield Served(url, proc, log)
        finally:
            if proc.poll() is None:
                proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def predict(url: str, text: str) -> httpx.Response:
    return httpx.post(f"{url}/v1/predict", json={"texts": [text]}, timeout=PATIENCE_S)


def in_background(fn, *args) -> list:
    """Run fn(*args) in a thread; the returned list holds its result (or exception) once done."""
    box: list = []

    def target():
        try:
            box.append(fn(*args))
        except Exception as err:  # noqa: BLE001 - handed to the test to assert on
            box.append(err)

    box.append(threading.Thread(target=target, daemon=True))  # box[0]: the thread; box[1]: its result
    box[0].start()
    return box


def result(box: list, timeout: float = PATIENCE_S):
    box[0].join(timeout)
    assert not box[0].is_alive(), "the call hung"
    return box[1]


def test_a_dying_collector_fails_waiters_fast_restarts_and_after_three_deaths_turns_health_503(
    tiny_model_dir, tmp_path
):
    with fault_server(tiny_model_dir, tmp_path / "serve.log", "slow=1.0,kill_collector=__die__") as served:
        url = served.url
        running = in_background(predict, url, "in the running batch")
        time.sleep(0.4)  # its 1 s batch is running; the next two wait behind it
        waiting = in_background(predict, url, "waiting behind it")
        killer = in_background(predict, url, "__die__ now")
        started = time.monotonic()
        assert result(running).status_code == 200
        for box in (waiting, killer):
            response = result(box)
            assert response.status_code == 503, response.text
            assert response.headers["Retry-After"] == "1"
            assert response.json()["detail"].startswith(f"request {response.headers['X-Request-ID']}: ")
            assert "restarted" in response.json()["detail"]
        assert time.monotonic() - started < 10  # failed when the collector died, not at a timeout
        assert httpx.get(f"{url}/health").status_code == 200  # restarted: it really serves again
        assert predict(url, "after the restart").status_code == 200
        assert "mtst_batcher_restarts 1.0" in httpx.get(f"{url}/metrics").text

        for _ in range(2):  # the second and third deaths within a minute: it stays down
            assert predict(url, "__die__ again").status_code == 503
        health = httpx.get(f"{url}/health")
        assert health.status_code == 503 and health.json()["status"] == "failed"
        assert "3 times" in health.json()["detail"]
        refused = predict(url, "anyone there?")
        assert refused.status_code == 503 and "3 times" in refused.json()["detail"]
    log = served.log.read_text()
    assert log.count("batch collector died") == 3, log  # each death logged once
    assert "never retrieved" not in log


@pytest.fixture(scope="module")
def slow_server(tiny_model_dir, tmp_path_factory) -> Iterator[Served]:
    """The real server whose every batch takes 0.5 s longer: requests are surely in flight when a test acts."""
    with fault_server(tiny_model_dir, tmp_path_factory.mktemp("slow") / "serve.log", "slow=0.5") as served:
        yield served


POST = "POST /v1/predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n{}\r\n\r\n"


def raw_request(url: str, head: str, body: bytes = b"") -> socket.socket:
    host, port = url.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)), timeout=PATIENCE_S)
    sock.sendall(head.encode() + body)
    return sock


def test_clients_that_disconnect_mid_request_do_not_stop_the_others(slow_server):
    url = slow_server.url
    body = b'{"texts": ["I will not wait for this"]}'
    others = [in_background(predict, url, f"patient client {i}") for i in range(3)]
    for _ in range(3):
        # Gone while its batch waits or runs; gone halfway through its body; connected, said nothing, gone.
        raw_request(url, POST.format(f"Content-Length: {len(body)}"), body).close()
        raw_request(url, POST.format("Content-Length: 1000"), body[:10]).close()
        raw_request(url, "").close()
    for box in others:
        assert result(box).status_code == 200
    assert predict(url, "after the walkouts").status_code == 200
    assert httpx.get(f"{url}/health").status_code == 200 and slow_server.proc.poll() is None
    assert "Traceback" not in slow_server.log.read_text()


def send_until_answered(url: str, head: str, pieces) -> tuple[bytes, int, int]:
    """Send head, then pieces, while reading the answer; (answer's first bytes, bytes sent by then, in all)."""
    sock = raw_request(url, head)
    sent = 0

    def upload():
        nonlocal sent
        with contextlib.suppress(OSError):  # the server may close the connection once it has answered
            for piece in pieces:
                sock.sendall(piece)
                sent += len(piece)

    uploader = threading.Thread(target=upload, daemon=True)
    uploader.start()
    answer = sock.recv(4096)
    sent_when_answered = sent
    uploader.join(PATIENCE_S)
    sock.close()
    return answer, sent_when_answered, sent


MB = 1 << 20
FIFTY_MB = 50 * MB


def test_a_50_mb_body_is_refused_with_413_before_it_is_read_whole(slow_server):
    url = slow_server.url
    rss_before = slow_server.rss_mb()
    megabyte = b'{"texts": ["' + b"x" * (MB - 12)
    # Only the first of the 50 declared megabytes is sent: an answer can come only from the Content-Length, since
    # the body never arrives whole (a server that waited for it would time the client out). Counting the bytes sent
    # before the answer cannot tell this: loopback socket buffers take megabytes the server never reads.
    answer, _, _ = send_until_answered(url, POST.format(f"Content-Length: {FIFTY_MB}"), [megabyte])
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    rss_declared = slow_server.rss_mb()

    # Chunked: no length up front, so the server reads until the body passes its cap (about 31 MB), then refuses.
    frames = [f"{MB:x}\r\n".encode() + megabyte.ljust(MB, b"x") + b"\r\n" for _ in range(50)]
    answer, sent_then, _ = send_until_answered(url, POST.format("Transfer-Encoding: chunked"), frames)
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert sent_then < FIFTY_MB
    rss_chunked = slow_server.rss_mb()

    assert rss_declared - rss_before < 5, (rss_before, rss_declared)
    assert rss_chunked - rss_before < 50, (rss_before, rss_chunked)
    assert predict(url, "still serving").status_code == 200


def test_sigterm_during_a_batch_lets_in_flight_requests_finish_and_exits_0(tiny_model_dir, tmp_path):
    with fault_server(tiny_model_dir, tmp_path / "serve.log", "slow=1.5") as served:
        in_flight = [in_background(predict, served.url, f"in flight {i}") for i in range(4)]
        time.sleep(0.5)  # all four are in; the first batch is running
        served.proc.send_signal(signal.SIGTERM)
        assert served.proc.wait(timeout=PATIENCE_S) == 0
        assert [result(box).status_code for box in in_flight] == [200] * 4
        with pytest.raises(httpx.ConnectError):
            predict(served.url, "too late")
    log = served.log.read_text()
    assert "Finished server process" in log and "Traceback" not in log
