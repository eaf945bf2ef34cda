"""Bounded soak of the real server on loopback: many clients, mixed request sizes, for a fixed time; then it stops.

Starts `python -m mtst serve` (batching on, the default settings), then CLIENTS concurrent clients send requests
one after another for DURATION seconds: /v1/predict and /v1/embeddings, 1 to 64 texts each, short and long texts.
A warm-up of the same load comes first (WARMUP seconds, not counted): the allocator and torch grow to the working
set of the largest merged batches there, so what follows measures the steady state. It reports requests served,
p50/p99 latency (all and by request size), errors by status, and the server's resident memory (RSS) sampled all
along: at the start of the measured load, at its end, its range, and the slope of a straight line fitted to the
second half (MB per minute). Flat memory means no leak; moving within a band is the allocator's noise. Results go
to benchmarks/results/soak_serve.json.

    python benchmarks/soak_serve.py [--duration-s 180] [--warmup-s 30] [--clients 32] [--model DIR]
"""

import argparse
import asyncio
import json
import os
import platform
import random
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_serve import TEXTS, RawConnection, Server, model_folder, split_cpus  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results" / "soak_serve.json"
SIZES = (1, 4, 16, 64)  # texts per request
SIZE_WEIGHTS = (0.55, 0.25, 0.15, 0.05)  # mostly single texts, now and then a large request
ROUTES = ("/v1/predict", "/v1/embeddings")
RSS_EVERY_S = 2.0


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


def request_body(rng: random.Random, route: str) -> tuple[int, bytes]:
    size = rng.choices(SIZES, SIZE_WEIGHTS)[0]
    # Some texts are long (a text repeated up to 12 times, ~100-700 characters), so batches differ in tokens too.
    texts = [" ".join([rng.choice(TEXTS)] * rng.choice((1, 1, 1, 3, 12))) for _ in range(size)]
    body = {"texts": texts} if route == "/v1/predict" else {"input": texts}
    return size, json.dumps(body).encode()


async def soak(url: str, pid: int, clients: int, duration_s: float, warmup_s: float, seed: int) -> dict:
    latencies: dict[int, list[float]] = {size: [] for size in SIZES}
    errors: dict[str, int] = {}
    rss: list[tuple[float, float]] = []
    connections = [RawConnection(url) for _ in range(clients)]

    async def client(c: int, measure_from: float, deadline: float) -> None:
        rng = random.Random(seed * 1000 + c)
        while time.perf_counter() < deadline:
            route = rng.choice(ROUTES)
            size, body = request_body(rng, route)
            started = time.perf_counter()
            counted = started >= measure_from  # requests of the warm-up are sent but not counted
            try:
                status, _ = await asyncio.wait_for(connections[c].post(route, body), 120)
                key = None if status == 200 else f"HTTP {status}"
            except Exception as err:  # noqa: BLE001 - every failure is counted, none stops the soak
                key = type(err).__name__
                await connections[c].close()
            if not counted:
                continue
            if key is None:
                latencies[size].append(time.perf_counter() - started)
            else:
                errors[key] = errors.get(key, 0) + 1

    async def sample_rss(measure_from: float, deadline: float) -> None:
        while time.perf_counter() < deadline:  # times are relative to the measured start: warm-up ones are negative
            rss.append((round(time.perf_counter() - measure_from, 1), round(rss_mb(pid), 1)))
            await asyncio.sleep(RSS_EVERY_S)

    try:
        # Warm-up outside the measurement: connections open, each request size seen once.
        rng = random.Random(seed)
        for size in SIZES:
            body = json.dumps({"texts": [rng.choice(TEXTS)] * size}).encode()
            await connections[0].post("/v1/predict", body)
        started = time.perf_counter() + warmup_s
        deadline = started + duration_s
        await asyncio.gather(sample_rss(started, deadline), *(client(c, started, deadline) for c in range(clients)))
        wall = time.perf_counter() - started
        rss.append((round(wall, 1), round(rss_mb(pid), 1)))
    finally:
        for connection in connections:
            await connection.close()

    def percentiles(values: list[float]) -> dict:
        ms = np.array(values) * 1000
        if not len(ms):
            return {"p50": None, "p99": None}
        return {"p50": round(float(np.percentile(ms, 50)), 1), "p99": round(float(np.percentile(ms, 99)), 1)}

    every = [x for values in latencies.values() for x in values]
    measured = [(t, mb) for t, mb in rss if t >= 0]
    memory = [mb for _, mb in measured]
    half = [(t, mb) for t, mb in measured if t >= wall / 2]
    slope = np.polyfit([t for t, _ in half], [mb for _, mb in half], 1)[0] * 60 if len(half) > 2 else None
    return {
        "wall_s": round(wall, 1),
        "requests_ok": len(every),
        "texts_ok": sum(size * len(values) for size, values in latencies.items()),
        "throughput_rps": round(len(every) / wall, 2),
        "latency_ms": percentiles(every),
        "latency_ms_by_texts_per_request": {str(size): percentiles(values) for size, values in latencies.items()},
        "requests_ok_by_texts_per_request": {str(size): len(values) for size, values in latencies.items()},
        "errors": sum(errors.values()),
        "errors_by_status": errors,
        "rss_mb": {
            "warmup_start": rss[0][1],
            "start": memory[0],
            "end": memory[-1],
            "min": min(memory),
            "max": max(memory),
            "second_half_slope_mb_per_min": round(float(slope), 2) if slope is not None else None,
            "samples": rss,
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration-s", type=float, default=180.0, help="How long the load runs (default 3 minutes).")
    parser.add_argument(
        "--warmup-s", type=float, default=30.0, help="The same load first, not counted, so memory reaches its level."
    )
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--model", type=Path, default=None)
    parser.add_argument("--batch-wait-ms", type=float, default=5.0)
    parser.add_argument("--seed", type=int, default=0)
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
    with tempfile.TemporaryDirectory(prefix="mtst-soak-serve-") as scratch:
        model, described = model_folder(args.model, Path(scratch))
        print(f"model: {described}")
        print(
            f"load: {args.clients} concurrent clients for {args.warmup_s:.0f} s warm-up + {args.duration_s:.0f} s, "
            f"{' and '.join(ROUTES)}, "
            f"{'/'.join(map(str, SIZES))} texts per request, loopback"
        )
        print(
            f"CPUs: server {sorted(server_cpus) if server_cpus else 'all'}, "
            f"load generator {sorted(client_cpus) if client_cpus else 'all'}"
        )
        server = Server(model, args.batch_wait_ms, Path(scratch) / "serve.log", server_cpus)
        try:
            server.wait_healthy()
            rss_idle = rss_mb(server.proc.pid)
            result = asyncio.run(
                soak(server.url, server.proc.pid, args.clients, args.duration_s, args.warmup_s, args.seed)
            )
            alive = server.proc.poll() is None and httpx.get(f"{server.url}/health", timeout=10).status_code == 200
        finally:
            server.stop()

    lat, mem = result["latency_ms"], result["rss_mb"]
    print(
        f"served {result['requests_ok']} requests ({result['texts_ok']} texts) in {result['wall_s']} s: "
        f"{result['throughput_rps']} req/s, p50 {lat['p50']} ms, p99 {lat['p99']} ms"
    )
    for size, p in result["latency_ms_by_texts_per_request"].items():
        count = result["requests_ok_by_texts_per_request"][size]
        print(f"  {size:>2} texts/request: {count:6d} served, p50 {p['p50']} ms, p99 {p['p99']} ms")
    print(f"errors: {result['errors']} {result['errors_by_status'] or ''}")
    print(
        f"server RSS: {rss_idle:.0f} MB idle, {mem['warmup_start']:.0f} MB when the warm-up began; measured load: "
        f"{mem['start']:.0f} MB at the start, {mem['end']:.0f} MB at the end, range {mem['min']:.0f}-{mem['max']:.0f}"
        f" MB, second-half trend {mem['second_half_slope_mb_per_min']} MB/min; healthy after: {alive}"
    )
    report = {
        "benchmark": "soak_serve",
        "model": described,
        "clients": args.clients,
        "duration_s": args.duration_s,
        "warmup_s": args.warmup_s,
        "batch_wait_ms": args.batch_wait_ms,
        "routes": list(ROUTES),
        "texts_per_request": dict(zip(map(str, SIZES), SIZE_WEIGHTS, strict=True)),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "load_average_1m_at_end": round(os.getloadavg()[0], 2),
        },
        "server_cpus": sorted(server_cpus) if server_cpus else "all",
        "load_generator_cpus": sorted(client_cpus) if client_cpus else "all",
        "rss_mb_idle": round(rss_idle, 1),
        "healthy_after": alive,
        **result,
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=2) + "\n")
    print(f"written to {args.output}")


if __name__ == "__main__":
    main()
