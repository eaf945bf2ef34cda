"""Inference side by side: sentence-transformers, mtst torch fp32/bf16, mtst ONNX fp32/int8 (`make bench`).

One process, one text set (the shipped test split plus BANKING77 test texts, when present). For each path:
texts/s at batch 32 (median of interleaved runs, so a busy machine slows every path alike), peak memory and
cold start (fresh subprocesses), agreement with mtst fp32 (embedding cosine, head predictions, macro-F1 on the
test split), the share of a measured matmul ceiling it reaches, and what one pass for all heads saves.
Also what the second branch costs: a model's heads read tuned top blocks while its embedding comes from the
original ones (mtst.branch); "heads only" runs the trunk and the tuned branch alone (the cost before the
base embedding was kept), "two branches" adds the base branch, for torch fp32, bf16 and ONNX fp32 side by side.
Writes benchmarks/results/inference.{json,md,png}.

    .venv/bin/python benchmarks/bench_inference.py [--texts N] [--runs N] [--model DIR] [--only-branches]
"""

import argparse
import csv
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
APP_TEST = ROOT / "data" / "app" / "test.jsonl"
BANKING77 = ROOT.parent / "shared" / "datasets" / "banking77" / "test.csv"
BATCH = 32
PATHS = [
    "sentence-transformers",
    "mtst fp32",
    "mtst fp32 1 stream",
    "mtst bf16",
    "onnx fp32",
    "onnx int8",
    "onnx int8 streams",
]
FALLBACK_TEXTS = [
    "Earn 500 bonus points on any Tide purchase this weekend",
    "huggies size 4",
    "Someone logged into my account and redeemed all my points",
    "How do I change the email on my account?",
    "KROGER #0412\nMILK 2% GAL 3.49\nBREAD 2.99\nSUBTOTAL 6.48\nTAX 0.00\nTOTAL 6.48\nVISA ****1234",
    "Happy Friday everyone!",
]


# --- the text set ---------------------------------------------------------------------


def load_texts(n: int, seed: int = 0) -> tuple[list[str], list[dict], list[str]]:
    """Up to n texts: the whole shipped test split first (for macro-F1), then BANKING77 test texts."""
    records = [json.loads(line) for line in APP_TEST.open()] if APP_TEST.is_file() else []
    records = records[:n]
    sources = [f"{APP_TEST.relative_to(ROOT)} ({len(records)})"] if records else []
    texts = [r["text"] for r in records]
    if len(texts) < n and BANKING77.is_file():
        with BANKING77.open() as f:
            extra = [row["text"] for row in csv.DictReader(f)]
        random.Random(seed).shuffle(extra)
        extra = extra[: n - len(texts)]
        texts += extra
        sources.append(f"BANKING77 test ({len(extra)})")
    if not texts:
        texts = [f"{t} #{i}" for i in range(n // len(FALLBACK_TEXTS) + 1) for t in FALLBACK_TEXTS][:n]
        sources.append(f"built-in fallback texts ({len(texts)}): no shipped data or BANKING77 found")
    return texts, records, sources


def pick_model(requested: Path | None, work: Path) -> tuple[Path, str]:
    if requested is not None:
        return requested, f"{requested}"
    default = ROOT / "models" / "default"
    if (default / "tasks.json").is_file():
        return default, "models/default"
    from mtst.model import MultiTaskModel

    print("models/default not found (make demo trains it): using the default encoder with UNTRAINED heads;")
    print("speed and memory are unaffected, head agreement and macro-F1 are not meaningful")
    return MultiTaskModel().save(work / "untrained"), "default encoder, untrained heads"


# --- loading and running each path ------------------------------------------------------
# The same snippets run in-process (throughput) and in fresh subprocesses (cold start, memory).

LOADERS = {
    "sentence-transformers": (
        "from sentence_transformers import SentenceTransformer\n"
        "m = SentenceTransformer(MODEL, device='cpu')\n"
        "run = lambda texts: m.encode(texts, batch_size=BATCH, normalize_embeddings=True)\n"
    ),
    "mtst fp32": (
        "from mtst.model import MultiTaskModel\n"
        "m = MultiTaskModel.load(MODEL, device='cpu')\n"
        "run = lambda texts: m.run(texts, batch_size=BATCH)\n"
    ),
    "mtst fp32 1 stream": (
        "from mtst.model import MultiTaskModel\n"
        "m = MultiTaskModel.load(MODEL, device='cpu', streams=1)\n"
        "run = lambda texts: m.run(texts, batch_size=BATCH)\n"
    ),
    "mtst bf16": (
        "from mtst.model import MultiTaskModel\n"
        "m = MultiTaskModel.load(MODEL, device='cpu', precision='bf16')\n"
        "run = lambda texts: m.run(texts, batch_size=BATCH)\n"
    ),
    "onnx fp32": (
        "from mtst.onnx_backend import OnnxModel\n"
        "m = OnnxModel.load(ONNX_FP32)\n"
        "run = lambda texts: m.run(texts, batch_size=BATCH)\n"
    ),
    "onnx int8": (
        "from mtst.onnx_backend import OnnxModel\n"
        "m = OnnxModel.load(ONNX_INT8)\n"
        "run = lambda texts: m.run(texts, batch_size=BATCH)\n"
    ),
    "onnx int8 streams": (
        "from mtst.onnx_backend import OnnxModel\n"
        "m = OnnxModel.load(ONNX_INT8, streams=None)\n"
        "run = lambda texts: m.run(texts, batch_size=BATCH)\n"
    ),
}


def load_path(name: str, where: dict) -> tuple[object, callable]:
    scope = {"BATCH": BATCH, **where}
    exec(LOADERS[name], scope)
    return scope["m"], scope["run"]


def embeddings_of(result) -> np.ndarray:
    return result if isinstance(result, np.ndarray) else result.embeddings


def status_mb(field: str) -> float:
    with open("/proc/self/status") as f:
        return int(next(line for line in f if line.startswith(field)).split()[1]) / 1024


def subprocess_cold_start(name: str, where: dict) -> float:
    """Seconds from starting a Python process to its first prediction (one text)."""
    code = "".join(f"{k} = {v!r}\n" for k, v in where.items()) + f"BATCH = {BATCH}\n" + LOADERS[name]
    code += "run(['Earn 500 bonus points on any Tide purchase this weekend'])\n"
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, cwd=ROOT)
    return time.perf_counter() - start


def subprocess_memory(name: str, where: dict, texts: list[str]) -> dict:
    """Resident memory of a fresh process: after loading, and at its peak while running `texts` at batch 32."""
    code = (
        "import json, sys\n"
        + "".join(f"{k} = {v!r}\n" for k, v in where.items())
        + f"BATCH = {BATCH}\n"
        + "def mb(field):\n"
        "    with open('/proc/self/status') as f:\n"
        "        return int(next(l for l in f if l.startswith(field)).split()[1]) / 1024\n"
        + LOADERS[name]
        + "run(['warm up'])\nloaded = mb('VmRSS')\n"
        "run(json.load(open(sys.argv[1])))\n"
        "print(json.dumps({'loaded_mb': loaded, 'peak_mb': mb('VmHWM')}))\n"
    )
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(texts, f)
    try:
        done = subprocess.run(
            [sys.executable, "-c", code, f.name], check=True, capture_output=True, text=True, cwd=ROOT
        )
    finally:
        os.unlink(f.name)
    return json.loads(done.stdout.strip().splitlines()[-1])


# --- compute ceilings and model FLOPs ---------------------------------------------------


def matmul_gflops(dtype, size: int, repeats: int = 5) -> float:
    """GFLOP/s of a square torch matmul: what this CPU's matrix units give torch in this dtype."""
    import torch

    a, b = torch.randn(size, size, dtype=dtype), torch.randn(size, size, dtype=dtype)
    a @ b
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        a @ b
        times.append(time.perf_counter() - start)
    return 2 * size**3 / statistics.median(times) / 1e9


def model_flops(token_counts: list[int], config) -> float:
    """Multiply-adds x 2 of the encoder on these texts (real tokens only, no padding): projections, FFN and
    attention scores and mixing. Embedding lookups, norms, pooling and heads are too small to count."""
    d, ff, layers = config.hidden_size, config.intermediate_size, config.num_hidden_layers
    lengths = np.asarray(token_counts, dtype=np.float64)
    per_layer = 2 * lengths * (4 * d * d + 2 * d * ff) + 4 * lengths**2 * d
    return float(layers * per_layer.sum())


# --- the benchmark ----------------------------------------------------------------------


def timed(fn, *args) -> tuple[float, object]:
    start = time.perf_counter()
    out = fn(*args)
    return time.perf_counter() - start, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--texts", type=int, default=2000, help="size of the text set")
    parser.add_argument("--runs", type=int, default=3, help="timed runs per path (median)")
    parser.add_argument("--model", type=Path, default=None, help="mtst model folder (default: models/default)")
    parser.add_argument("--out", type=Path, default=RESULTS / "inference")
    parser.add_argument(
        "--only-branches", action="store_true", help="measure only the second branch's cost (prints, writes nothing)"
    )
    args = parser.parse_args()

    import torch

    import mtst.device
    from mtst.export import export_onnx
    from mtst.model import MultiTaskModel

    cores = len(os.sched_getaffinity(0))
    load_before = os.getloadavg()
    texts, records, sources = load_texts(args.texts)
    work = Path(tempfile.mkdtemp(prefix="mtst-bench-inference-"))
    model_dir, model_note = pick_model(args.model, work)
    print(f"{len(texts)} texts from {', '.join(sources)}; model: {model_note}; {cores} cores", flush=True)
    bf16_native = mtst.device.bf16_supported(torch.device("cpu"))
    branches = branch_cost(model_dir, work, texts, args.runs, bf16_native)
    print(branch_markdown(branches), flush=True)
    if args.only_branches:
        return

    export_s = {}
    for quantize in (None, "int8"):
        seconds, _ = timed(export_onnx, model_dir, work / f"onnx-{quantize or 'fp32'}", quantize)
        export_s[quantize or "fp32"] = seconds
    where = {"MODEL": str(model_dir), "ONNX_FP32": str(work / "onnx-fp32"), "ONNX_INT8": str(work / "onnx-int8")}

    # bf16 where the CPU has no native support falls back to fp32 (and says so); its numbers are then fp32's.
    measured = [p for p in PATHS if bf16_native or p != "mtst bf16"]
    loaded = {name: load_path(name, where) for name in measured}
    reference_model = loaded["mtst fp32"][0]
    token_counts = reference_model.token_counts(texts)

    # Throughput: runs interleaved path by path, median per path.
    for _, run in loaded.values():
        run(texts[:64])
    times: dict[str, list[float]] = {name: [] for name in measured}
    outputs = {}
    for round_ in range(args.runs):
        for name, (_, run) in loaded.items():
            seconds, outputs[name] = timed(run, texts)
            times[name].append(seconds)
        speeds = ", ".join(f"{n} {len(texts) / t[-1]:.0f}/s" for n, t in times.items())
        print(f"run {round_ + 1}/{args.runs}: {speeds}", flush=True)
    if not bf16_native:
        times["mtst bf16"], outputs["mtst bf16"] = times["mtst fp32"], outputs["mtst fp32"]
    median = {name: statistics.median(t) for name, t in times.items()}

    # Agreement with mtst fp32.
    reference = outputs["mtst fp32"]
    fidelity = {}
    for name in PATHS:
        emb = embeddings_of(outputs[name])
        entry = {"min_cosine": float((emb * reference.embeddings).sum(axis=1).min())}
        if name != "sentence-transformers":
            probs = outputs[name].probabilities
            entry["head_agreement"] = {
                t: float((probs[t].argmax(1) == reference.probabilities[t].argmax(1)).mean()) for t in probs
            }
            entry["macro_f1"] = macro_f1(outputs[name], records, reference_model.tasks)
        fidelity[name] = entry

    # bf16 emulated: the autocast path forced on this CPU, on a few texts (emulated bf16 matmuls are slow).
    emulated = None
    if not bf16_native:
        mtst.device._cpu_flags.cache_clear()
        real_flags = mtst.device._cpu_flags
        mtst.device._cpu_flags = lambda: frozenset({"avx512_bf16"})
        try:
            forced = MultiTaskModel.load(model_dir, device="cpu", precision="bf16")
            sample = texts[:: max(1, len(texts) // 32)][:32]
            forced.run(sample[:2], batch_size=BATCH)
            seconds, out = timed(forced.run, sample, None, BATCH)
            ref = reference_model.run(sample, batch_size=BATCH)
            emulated = {
                "texts": len(sample),
                "texts_per_s": len(sample) / seconds,
                "fp32_texts_per_s_same_texts": len(sample) / timed(reference_model.run, sample, None, BATCH)[0],
                "min_cosine": float((out.embeddings * ref.embeddings).sum(axis=1).min()),
                "head_agreement": {
                    t: float((out.probabilities[t].argmax(1) == ref.probabilities[t].argmax(1)).mean())
                    for t in out.probabilities
                },
            }
        finally:
            mtst.device._cpu_flags = real_flags

    # One pass for all heads vs embeddings only vs one single-task model (one encoder pass) per task.
    subset = texts[: min(len(texts), 400)]
    one_pass = {}
    for name in ("mtst fp32", "onnx int8"):
        model = loaded[name][0]
        tasks = list(model.tasks)
        variants = {
            "embedding_only": lambda m=model: m.run(subset, [], BATCH),
            "all_heads_one_pass": lambda m=model: m.run(subset, None, BATCH),
            "single_task_models": lambda m=model, ts=tasks: [m.run(subset, [t], BATCH) for t in ts],
        }
        spent = {k: [] for k in variants}
        for _ in range(args.runs):
            for key, fn in variants.items():
                spent[key].append(timed(fn)[0])
        med = {k: statistics.median(v) for k, v in spent.items()}
        one_pass[name] = {
            "texts": len(subset),
            "tasks": len(tasks),
            "seconds": med,
            "all_heads_over_embedding": med["all_heads_one_pass"] / med["embedding_only"],
            "single_task_models_over_one_pass": med["single_task_models"] / med["all_heads_one_pass"],
        }

    # Ceilings: a large matmul in each dtype, and the model's FLOPs at these texts' token counts.
    from ceilings import int8_gops  # benchmarks/ceilings.py: onnxruntime's int8 matmul kernel

    ceilings = {
        "fp32": matmul_gflops(torch.float32, 1024),
        "bf16": matmul_gflops(torch.bfloat16, 512, 3),
        "int8": int8_gops(1024),
    }
    flops = model_flops(token_counts, reference_model.encoder.transformer.config)

    # Cold start and memory, in fresh processes.
    memory_texts = sorted(texts, key=len)[-64:] + texts[:192]  # the longest texts make the largest batches
    cold, memory = {}, {}
    for name in measured:
        cold[name] = statistics.median(subprocess_cold_start(name, where) for _ in range(3))
        memory[name] = subprocess_memory(name, where, memory_texts)
        print(f"{name}: cold start {cold[name]:.2f} s, peak {memory[name]['peak_mb']:.0f} MB", flush=True)
    if not bf16_native:
        cold["mtst bf16"], memory["mtst bf16"] = cold["mtst fp32"], memory["mtst fp32"]

    results = {
        "machine": machine(cores, load_before),
        "texts": {
            "n": len(texts),
            "sources": sources,
            "mean_tokens": float(np.mean(token_counts)),
            "max_tokens": int(max(token_counts)),
        },
        "model": model_note,
        "batch_size": BATCH,
        "runs": args.runs,
        "export_seconds": export_s,
        "bf16_native": bf16_native,
        "ceilings_gflops": ceilings,
        "model_gflop": flops / 1e9,
        "paths": {},
        "bf16_emulated": emulated,
        "one_pass": one_pass,
        "branches": branches,
    }
    st = median["sentence-transformers"]
    for name in PATHS:
        tps = len(texts) / median[name]
        ceiling = "bf16" if name == "mtst bf16" and bf16_native else "int8" if "int8" in name else "fp32"
        results["paths"][name] = {
            "texts_per_s": tps,
            "runs_s": times[name],
            "x_sentence_transformers": st / median[name],
            "gflops": flops / median[name] / 1e9,
            "ceiling": ceiling,
            "fraction_of_ceiling": flops / median[name] / 1e9 / ceilings[ceiling],
            "cold_start_s": cold[name],
            **memory[name],
            **fidelity[name],
            "note": path_note(name, bf16_native),
        }
    results["machine"]["load_after"] = os.getloadavg()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.with_suffix(".json").write_text(json.dumps(results, indent=2) + "\n")
    args.out.with_suffix(".md").write_text(markdown(results))
    chart(results, args.out.with_suffix(".png"))
    print(markdown(results))
    print(f"wrote {args.out.with_suffix('.json')}, .md and .png")


def branch_variants(model_dir: Path, work: Path) -> dict[str, Path]:
    """The model twice: serving its base embedding (two branches) and its tuned one (heads only: the base
    branch is skipped). A model without a tuned branch gets one of two blocks (copies: the cost is the same)."""
    from mtst.model import MultiTaskModel

    model = MultiTaskModel.load(model_dir, device="cpu")
    if model.encoder.tuned is None:
        model.encoder.add_tuned_branch(2)
    folders = {}
    for variant, served in (("heads only", "tuned"), ("two branches", "base")):
        model.encoder.embedding = served
        folders[variant] = model.save(work / f"branches-{served}")
    return folders


def branch_cost(model_dir: Path, work: Path, texts: list[str], runs: int, bf16_native: bool) -> dict:
    """texts/s of one model with and without its base branch, per runtime, runs interleaved (median)."""
    import mtst.device
    from mtst.backend import load_model
    from mtst.export import export_onnx

    folders = branch_variants(model_dir, work)
    exports = {v: export_onnx(f, work / f"onnx-{f.name}") for v, f in folders.items()}
    real_flags = mtst.device._cpu_flags
    if not bf16_native:  # bf16 forced (emulated, slow): a small sample only
        mtst.device._cpu_flags = lambda: frozenset({"avx512_bf16"})
    try:
        runtimes = {
            "torch fp32": {v: load_model(f) for v, f in folders.items()},
            "torch bf16": {v: load_model(f, precision="bf16") for v, f in folders.items()},
            "onnx fp32": {v: load_model(f, backend="onnx") for v, f in exports.items()},
        }
    finally:
        mtst.device._cpu_flags = real_flags
    model = runtimes["torch fp32"]["two branches"]
    result = {
        "tuned_blocks": len(model.encoder.tuned.blocks),
        "blocks": model.encoder.num_layers,
        "tuned_embeddings_layer": model.encoder.tuned.embeddings is not None,
        "runtimes": {},
    }
    for runtime, variants in runtimes.items():
        sample = texts if bf16_native or runtime != "torch bf16" else texts[: min(len(texts), 64)]
        for m in variants.values():
            m.run(sample[:8], batch_size=BATCH)
        spent = {v: [] for v in variants}
        for _ in range(runs):
            for v, m in variants.items():
                spent[v].append(timed(m.run, sample, None, BATCH)[0])
        med = {v: statistics.median(t) for v, t in spent.items()}
        result["runtimes"][runtime] = {
            "texts": len(sample),
            "emulated": runtime == "torch bf16" and not bf16_native,
            "texts_per_s": {v: len(sample) / t for v, t in med.items()},
            "two_over_one": med["two branches"] / med["heads only"],
        }
    return result


def branch_markdown(b: dict) -> str:
    n, k = b["blocks"], b["tuned_blocks"]
    expected = 2.0 if b["tuned_embeddings_layer"] else (n + k) / n
    lines = [
        f"Second branch: heads on {k} tuned blocks"
        + (" and embeddings layer" if b["tuned_embeddings_layer"] else "")
        + f", embedding from the {n} original blocks (block-count estimate {expected:.2f}x).",
        "",
        "| runtime | texts | heads only, texts/s | two branches, texts/s | cost of the base branch |",
        "|---|---|---|---|---|",
    ]
    for name, r in b["runtimes"].items():
        tps = r["texts_per_s"]
        note = " (emulated bf16)" if r["emulated"] else ""
        lines.append(
            f"| {name}{note} | {r['texts']} | {tps['heads only']:.0f} | {tps['two branches']:.0f} "
            f"| {r['two_over_one']:.2f}x |"
        )
    return "\n".join(lines) + "\n"


def macro_f1(outputs, records: list[dict], tasks: dict) -> dict[str, float]:
    """Macro-F1 per task on the shipped test split (its records are the first texts of the set)."""
    from sklearn.metrics import f1_score

    scores = {}
    for name, spec in tasks.items():
        rows = [i for i, r in enumerate(records) if name in r]
        if rows:
            predicted = [spec.labels[j] for j in outputs.probabilities[name][rows].argmax(1)]
            scores[name] = float(f1_score([records[i][name] for i in rows], predicted, average="macro"))
    return scores


def path_note(name: str, bf16_native: bool) -> str:
    return {
        "sentence-transformers": "SentenceTransformer.encode, embeddings only",
        "mtst fp32": "embeddings + every head, one pass; batches side by side, one per core (the default)",
        "mtst fp32 1 stream": "the same, one batch at a time on every core",
        "mtst bf16": "bf16 autocast" if bf16_native else "no native bf16 here: falls back to fp32 (numbers are fp32's)",
        "onnx fp32": "onnxruntime, fused graph",
        "onnx int8": "onnxruntime, dynamic int8 (FFN output projections fp32)",
        "onnx int8 streams": "the same, batches side by side, one per core (opt-in: streams=None)",
    }[name]


def machine(cores: int, load: tuple) -> dict:
    name, flags = platform.processor(), set()
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                name = line.split(":", 1)[1].strip()
            elif line.startswith("flags"):
                flags = set(line.split(":", 1)[1].split())
    import onnxruntime
    import torch

    return {
        "cpu": name,
        "cores": cores,
        "isa": sorted(flags & {"avx2", "avx512f", "avx512_bf16", "avx512_vnni", "avx_vnni", "amx_bf16"}),
        "torch": torch.__version__,
        "onnxruntime": onnxruntime.__version__,
        "load_before": load,
    }


def markdown(r: dict) -> str:
    m = r["machine"]
    lines = [
        f"Machine: {m['cpu']}, {m['cores']} cores ({', '.join(m['isa'])}); torch {m['torch']}, onnxruntime "
        f"{m['onnxruntime']}; load average {m['load_before'][0]:.1f} before, {m['load_after'][0]:.1f} after.",
        f"Texts: {r['texts']['n']} ({', '.join(r['texts']['sources'])}), mean {r['texts']['mean_tokens']:.0f} tokens;"
        f" batch {r['batch_size']}; median of {r['runs']} interleaved runs. Model: {r['model']}.",
        "",
        "| path | texts/s | × sentence-transformers | GFLOP/s (% of its precision's matmul) | peak RSS MB "
        "| cold start s | min cosine vs fp32 | head agreement (worst task) | macro-F1 Δ vs fp32 (worst task, points) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    base_f1 = r["paths"]["mtst fp32"].get("macro_f1", {})
    for name, p in r["paths"].items():
        agree = min(p["head_agreement"].values()) if p.get("head_agreement") else None
        f1 = p.get("macro_f1") or {}
        delta = min((f1[t] - base_f1[t]) * 100 for t in f1) if f1 and base_f1 else None
        lines.append(
            f"| {name} | {p['texts_per_s']:.0f} | {p['x_sentence_transformers']:.2f} | {p['gflops']:.0f} "
            f"({100 * p['fraction_of_ceiling']:.0f}%) | {p['peak_mb']:.0f} | {p['cold_start_s']:.2f} "
            f"| {p['min_cosine']:.6f} | {'-' if agree is None else f'{agree:.3f}'} "
            f"| {'-' if delta is None else f'{delta:+.2f}'} |"
        )
    lines += ["", "Notes: " + "; ".join(f"{n}: {p['note']}" for n, p in r["paths"].items()) + "."]
    c = r["ceilings_gflops"]
    lines += [
        "",
        f"Ceilings (torch matmul): fp32 {c['fp32']:.0f} GFLOP/s, bf16 {c['bf16']:.1f} GFLOP/s"
        f"{'' if r['bf16_native'] else ' (emulated: no native bf16)'}; int8 (onnxruntime MatMulInteger) "
        f"{c.get('int8', float('nan')):.0f} GOP/s. "
        f"Model work on this text set: {r['model_gflop']:.0f} GFLOP (real tokens, no padding).",
    ]
    if r["bf16_emulated"]:
        e = r["bf16_emulated"]
        lines.append(
            f"bf16 forced on this CPU (emulated), {e['texts']} texts: {e['texts_per_s']:.1f} texts/s "
            f"(fp32 on the same texts {e['fp32_texts_per_s_same_texts']:.1f}), min cosine {e['min_cosine']:.6f}, "
            f"head agreement (worst task) {min(e['head_agreement'].values()):.3f}."
        )
    lines += [
        "",
        "| one pass for all heads | texts | all heads / embedding only | single-task models / one pass |",
        "|---|---|---|---|",
    ]
    for name, o in r["one_pass"].items():
        lines.append(
            f"| {name} | {o['texts']} | {o['all_heads_over_embedding']:.2f} "
            f"| {o['single_task_models_over_one_pass']:.2f} ({o['tasks']} tasks) |"
        )
    if r.get("branches"):
        lines += ["", branch_markdown(r["branches"]).rstrip("\n")]
    return "\n".join(lines) + "\n"


def chart(r: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(r["paths"])
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.2))
    panels = [
        ("texts_per_s", "texts/s at batch 32 (higher is better)"),
        ("peak_mb", "peak RSS, MB"),
        ("cold_start_s", "cold start to first prediction, s"),
    ]
    for ax, (key, title) in zip(axes, panels, strict=True):
        values = [r["paths"][n][key] for n in names]
        bars = ax.barh(
            names, values, color=["#999999", "#4c72b0", "#9bb0d6", "#8172b2", "#55a868", "#c44e52", "#e09a9c"]
        )
        ax.set_title(title, fontsize=10)
        ax.invert_yaxis()
        for bar, n, v in zip(bars, names, values, strict=True):
            label = f"{v:.0f}" if key != "cold_start_s" else f"{v:.2f}"
            if key == "texts_per_s":
                label += f"  (×{r['paths'][n]['x_sentence_transformers']:.2f})"
            ax.text(bar.get_width(), bar.get_y() + bar.get_height() / 2, " " + label, va="center", fontsize=8)
        ax.margins(x=0.35)
    m = r["machine"]
    fig.suptitle(f"mtst inference, {r['texts']['n']} texts, {m['cpu']} ({m['cores']} cores)", fontsize=11)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


if __name__ == "__main__":
    main()
