"""Serving throughput with dynamic batching on and off, side by side in one run, on loopback only.

Starts the real server (`python -m mtst serve`) twice on the same model: once with batching
(--batch-wait-ms 5) and once without (--batch-wait-ms 0). Each time, CLIENTS concurrent clients send
REQUESTS single-text /v1/predict requests each, under a time cap, and the run reports throughput,
p50/p99 latency and errors. Results go to benchmarks/results/serve.json.

    python benchmarks/bench_serve.py [--clients 32] [--requests 25] [--cap-s 60] [--model DIR]
"""

import argparse
import asyncio
import json
import os
import platform
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results" / "serve.json"
DEFAULT_MODEL = ROOT / "models" / "default"
TARGET_RATIO = 3.0
MODES = {"batching on": 5.0, "batching off": 0.0}  # --batch-wait-ms of each run
TEXTS = [
    "Just scanned my Target receipt and got 350 points!",
    "Earn 2,000 bonus points when you buy two Pepsi 12-packs this week.",
    "My points never showed up for the Kroger receipt I scanned on Tuesday.",
    "Someone logged into my account and redeemed all my points for a gift card.",
    "huggies size 4 coupon",
    "How do I change the email on my account?",
    "Double points on every grocery receipt until Sunday",
    "cheap diapers",
    "WALMART SUPERCENTER\nGV EGGS 18CT 4.12\nBANANAS 1.34\nTOTAL 5.84",
    "Who is watching the game tonight?",
]


def model_folder(given: Path | None, scratch: Path) -> tuple[Path, str]:
    """The model to serve: --model, else models/default, else the default encoder with untrained heads."""
    if given is not None:
        return given, str(given)
    if (DEFAULT_MODEL / "tasks.json").is_file():
        return DEFAULT_MODEL, "models/default"
    import torch

    from mtst.model import MultiTaskModel

    torch.manual_seed(0)
    folder = MultiTaskModel().save(scratch / "model")  # serving cost does not depend on the heads' training
    return folder, "all-MiniLM-L6-v2 + untrained heads (models/default not found)"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """`python -m mtst serve` on a free loopback port; always stopped on exit."""

    def __init__(self, model: Path, wait_ms: float, log: Path, cpus: set[int] | None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        command = [
            sys.executable,
            "-m",
            "mtst",
            "serve",
            "--model",
            str(model),
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--batch-wait-ms",
            str(wait_ms),
        ]
        self.log = open(log, "w")  # noqa: SIM115 - closed in stop()
        env = {**os.environ, "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
        env.pop("MTST_API_KEY", None)
        pin = (lambda: os.sched_setaffinity(0, cpus)) if cpus else None
        self.proc = subprocess.Popen(command, stdout=self.log, stderr=subprocess.STDOUT, env=env, preexec_fn=pin)

    def wait_healthy(self, timeout: float = 300) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with status {self.proc.returncode}; see {self.log.name}")
            try:
                if httpx.get(f"{self.url}/health", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.25)
        raise TimeoutError(f"server not healthy within {timeout} s; see {self.log.name}")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


class RawConnection:
    """A minimal keep-alive HTTP/1.1 client on asyncio streams.

    httpx spends about 4-6 ms of CPU per request here, more than the server does, so on a small machine an
    httpx load generator measures itself; this one spends about 0.2 ms. It expects what uvicorn sends:
    a Content-Length on every response.
    """

    def __init__(self, url: str) -> None:
        host, port = url.removeprefix("http://").split(":")
        self.host, self.port = host, int(port)
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def post(self, path: str, body: bytes) -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        head = (
            f"POST {path} HTTP/1.1\r\nHost: {self.host}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        )
        try:
            self.writer.write(head.encode() + body)
            await self.writer.drain()
            lines = (await self.reader.readuntil(b"\r\n\r\n")).split(b"\r\n")
            status = int(lines[0].split()[1])
            headers = dict(line.lower().split(b": ", 1) for line in lines[1:] if b": " in line)
            payload = await self.reader.readexactly(int(headers[b"content-length"]))
            if headers.get(b"connection") == b"close":
                await self.close()
            return status, payload
        except Exception:
            await self.close()  # start afresh on the next request
            raise

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.reader = self.writer = None


async def load(url: str, clients: int, requests: int, cap_s: float, kind: str) -> dict:
    """CLIENTS loops, each sending up to REQUESTS single-text predictions one after another, until the cap."""
    latencies: list[float] = []
    errors: dict[str, int] = {}
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    shared = httpx.AsyncClient(base_url=url, timeout=60, limits=limits) if kind == "httpx" else None
    raw = [RawConnection(url) for _ in range(clients)] if kind == "raw" else []

    async def post(c: int, text: str) -> tuple[int, bytes]:
        body = json.dumps({"texts": [text]}).encode()
        if shared is not None:
            response = await shared.post("/v1/predict", content=body, headers={"Content-Type": "application/json"})
            return response.status_code, response.content
        return await raw[c].post("/v1/predict", body)

    async def client(c: int, deadline: float) -> None:
        for i in range(requests):
            if time.perf_counter() > deadline:
                return
            started = time.perf_counter()
            try:
                status, payload = await asyncio.wait_for(post(c, TEXTS[(c + i) % len(TEXTS)]), 60)
                ok = status == 200 and payload.startswith(b'{"model"')
                key = None if ok else f"HTTP {status}"
            except Exception as err:  # noqa: BLE001 - every failure is counted, none stops the run
                key = type(err).__name__
            if key is None:
                latencies.append(time.perf_counter() - started)
            else:
                errors[key] = errors.get(key, 0) + 1

    try:
        # Warm-up outside the timing: connections open, first requests through.
        await asyncio.gather(*(post(c, TEXTS[c % len(TEXTS)]) for c in range(clients)))
        before = httpx.get(f"{url}/metrics").text
        started = time.perf_counter()
        await asyncio.gather(*(client(c, started + cap_s) for c in range(clients)))
        wall = time.perf_counter() - started
        after = httpx.get(f"{url}/metrics").text
    finally:
        if shared is not None:
            await shared.aclose()
        for connection in raw:
            await connection.close()
    batches = _metric(after, "mtst_batch_texts_count") - _metric(before, "mtst_batch_texts_count")
    texts = _metric(after, "mtst_batch_texts_sum") - _metric(before, "mtst_batch_texts_sum")
    ms = np.array(latencies) * 1000
    return {
        "requests_ok": len(latencies),
        "errors": sum(errors.values()),
        "error_kinds": errors,
        "wall_s": round(wall, 3),
        "throughput_rps": round(len(latencies) / wall, 2),
        "latency_ms": {
            "p50": round(float(np.percentile(ms, 50)), 2) if len(ms) else None,
            "p99": round(float(np.percentile(ms, 99)), 2) if len(ms) else None,
            "mean": round(float(ms.mean()), 2) if len(ms) else None,
        },
        "capped": wall >= cap_s,
        "mean_texts_per_batch": round(texts / batches, 2) if batches else None,
    }


def _metric(text: str, name: str) -> float:
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[-1])
    return 0.0


def split_cpus(server_cpus: str) -> tuple[set[int] | None, set[int] | None]:
    """(server's CPUs, load generator's CPUs). auto: the load generator gets the first CPU, the server the rest,
    so the two do not fight over cores (torch runs one thread per server CPU)."""
    available = sorted(os.sched_getaffinity(0))
    if server_cpus == "all" or len(available) < 2:
        return None, None
    if server_cpus == "auto":
        return set(available[1:]), {available[0]}
    chosen = {int(c) for c in server_cpus.split(",")}
    rest = set(available) - chosen
    return chosen, (rest or None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--requests", type=int, default=25, help="Requests per client.")
    parser.add_argument("--cap-s", type=float, default=60.0, help="Time cap of each load run.")
    parser.add_argument("--model", type=Path, default=None)
    parser.add_argument(
        "--client",
        choices=("raw", "httpx"),
        default="raw",
        help="Load generator: raw (lean asyncio HTTP/1.1, the default) or httpx (costlier per request).",
    )
    parser.add_argument("--output", type=Path, default=RESULTS)
    parser.add_argument(
        "--server-cpus",
        default="auto",
        help="auto (all CPUs but the first; the load generator gets that one), all, or a list: 1,2,3",
    )
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")

    server_cpus, client_cpus = split_cpus(args.server_cpus)
    if client_cpus:
        os.sched_setaffinity(0, client_cpus)
    results: dict[str, dict] = {}
    with tempfile.TemporaryDirectory(prefix="mtst-bench-serve-") as scratch:
        model, described = model_folder(args.model, Path(scratch))
        print(f"model: {described}")
        print(
            f"load: {args.clients} concurrent clients x {args.requests} single-text /v1/predict requests, "
            f"cap {args.cap_s:.0f} s per run, loopback, {args.client} load generator"
        )
        print(
            f"CPUs: server {sorted(server_cpus) if server_cpus else 'all'}, "
            f"load generator {sorted(client_cpus) if client_cpus else 'all'}"
        )
        for mode, wait_ms in MODES.items():
            server = Server(model, wait_ms, Path(scratch) / f"serve-{wait_ms}.log", server_cpus)
            try:
                server.wait_healthy()
                result = asyncio.run(load(server.url, args.clients, args.requests, args.cap_s, args.client))
            finally:
                server.stop()
            results[mode] = {"batch_wait_ms": wait_ms, **result}
            lat = result["latency_ms"]
            print(
                f"{mode:>13}: {result['throughput_rps']:8.1f} req/s  p50 {lat['p50']} ms  p99 {lat['p99']} ms  "
                f"errors {result['errors']}  texts/batch {result['mean_texts_per_batch']}"
                + ("  (hit the time cap)" if result["capped"] else "")
            )

    on, off = results["batching on"]["throughput_rps"], results["batching off"]["throughput_rps"]
    ratio = round(on / off, 2) if off else None
    verdict = "met" if ratio and ratio >= TARGET_RATIO else "NOT met"
    print(f"throughput ratio on/off: {ratio}x (target >= {TARGET_RATIO}x: {verdict})")
    report = {
        "benchmark": "serve",
        "model": described,
        "clients": args.clients,
        "requests_per_client": args.requests,
        "cap_s": args.cap_s,
        "route": "/v1/predict, one text per request",
        "load_generator": args.client,
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "load_average_1m_at_end": round(os.getloadavg()[0], 2),
        },
        "server_cpus": sorted(server_cpus) if server_cpus else "all",
        "load_generator_cpus": sorted(client_cpus) if client_cpus else "all",
        "modes": results,
        "throughput_ratio": ratio,
        "target_ratio": TARGET_RATIO,
        "target_met": bool(ratio and ratio >= TARGET_RATIO),
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=2) + "\n")
    print(f"written to {args.output}")


if __name__ == "__main__":
    main()
