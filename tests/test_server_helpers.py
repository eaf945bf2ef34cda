"""Shared by the server tests (no tests here): one saved model, and real servers on loopback ports."""

import functools
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

TRAINED_TASK = "sentence_type"  # the one head the saved model marks as trained


def saved_model_dir(base: Path) -> Path:
    """The default encoder with seeded random heads, saved once per test session (every module shares it)."""
    import torch

    from mtst.model import MultiTaskModel

    folder = base / "server-model"
    if not (folder / "tasks.json").is_file():
        torch.manual_seed(1234)
        model = MultiTaskModel()
        model.trained[TRAINED_TASK] = True
        model.save(folder)
    return folder


@functools.cache
def loaded_model(folder: Path):
    """The saved model loaded once per process; apps in the tests share it instead of loading their own."""
    from mtst.model import MultiTaskModel

    return MultiTaskModel.load(folder)


def wait_healthy(url: str, timeout: float = 120, proc: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server exited with status {proc.returncode} before it was healthy")
        try:
            if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise TimeoutError(f"{url}/health was not 200 within {timeout} s")


@contextmanager
def thread_server(app) -> Iterator[str]:
    """Serve app with a real uvicorn on a free loopback port in a thread; yields the base URL once healthy."""
    import uvicorn

    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 30
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.05)
        port = server.servers[0].sockets[0].getsockname()[1]  # port 0: the OS picked a free one, no race
        url = f"http://127.0.0.1:{port}"
        wait_healthy(url, timeout=60)
        yield url
    finally:
        server.should_exit = True
        thread.join(timeout=20)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def cli_server(
    model_dir: Path, *args: str, env: dict[str, str] | None = None, log: Path | None = None
) -> Iterator[str]:
    """`python -m mtst serve` as a subprocess on a free port; always stopped afterwards."""
    port = free_port()
    command = [sys.executable, "-m", "mtst", "serve", "--model", str(model_dir), "--port", str(port), *args]
    out = open(log, "w") if log else subprocess.DEVNULL  # closed in finally
    proc = subprocess.Popen(
        command, stdout=out, stderr=subprocess.STDOUT, env={**os.environ, "HF_HUB_OFFLINE": "1", **(env or {})}
    )
    try:
        url = f"http://127.0.0.1:{port}"
        wait_healthy(url, timeout=180, proc=proc)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if log:
            out.close()
