"""Frozen-encoder fast path: training the heads on cached embeddings vs running the encoder every step.

    .venv/bin/python benchmarks/bench_training.py [--records 400] [--epochs 20]

Both runs train the same heads, on the same records, for the same epochs, with the same seed;
the script checks that they end with the same dev metrics and prints the speed ratio.
Writes benchmarks/results/training_cache.json.
"""

import argparse
import json
import os
import platform
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from mtst.config import parse_config  # noqa: E402
from mtst.tasks import DEFAULT_TASKS  # noqa: E402
from mtst.training import train  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"


def subset(path: Path, n: int, out: Path) -> Path:
    """The first n message and query records (short texts, so the uncached run stays bounded)."""
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    rows = [r for r in rows if "receipt_quality" not in r][:n]
    out.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return out


def run(folder: Path, train_file: Path, dev_file: Path, epochs: int, cached: bool) -> tuple[dict, dict]:
    config = parse_config(
        {
            "tasks": [
                {"name": t.name, "labels": list(t.labels), "lr": 0.005}
                for t in DEFAULT_TASKS
                if t.name != "receipt_quality"
            ],
            "encoder": {"freeze": "encoder", "cache_embeddings": cached},
            "data": {"train": str(train_file), "dev": str(dev_file)},
            "epochs": epochs,
            "patience": epochs,  # no early stop: both runs do every epoch
            "batch_size": 32,
            "seed": 7,
        }
    )
    began = time.perf_counter()
    metrics = train(config, folder, quiet=True)
    total = time.perf_counter() - began
    timing = json.loads((folder / "timing.json").read_text())
    # Training time: embedding once (cached run only) plus every epoch; model loading and saving,
    # the same in both runs, are left out of the ratio but reported.
    return {"training": timing["caching"] + timing["epochs"], "total": total, **timing}, metrics


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=400)
    parser.add_argument("--epochs", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        os.environ["MTST_CACHE_DIR"] = str(tmp / "cache")  # a cold cache: the cached run pays its one encoding
        train_file = subset(ROOT / "data/app/train.jsonl", args.records, tmp / "train.jsonl")
        dev_file = subset(ROOT / "data/app/dev.jsonl", args.records // 4, tmp / "dev.jsonl")
        cached_s, cached = run(tmp / "cached", train_file, dev_file, args.epochs, cached=True)
        slow_s, slow = run(tmp / "uncached", train_file, dev_file, args.epochs, cached=False)
    same = all(
        cached["dev"]["tasks"][t]["accuracy"] == slow["dev"]["tasks"][t]["accuracy"] for t in cached["dev"]["tasks"]
    )
    ratio = slow_s["training"] / cached_s["training"]
    result = {
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores",
        "records": args.records,
        "epochs": args.epochs,
        "cached_seconds": {k: round(v, 2) for k, v in cached_s.items()},
        "uncached_seconds": {k: round(v, 2) for k, v in slow_s.items()},
        "speedup_training": round(ratio, 2),
        "speedup_total": round(slow_s["total"] / cached_s["total"], 2),
        "same_dev_accuracy": same,
        "dev_macro_f1": {t: round(m["macro_f1"], 4) for t, m in cached["dev"]["tasks"].items()},
    }
    print(f"frozen encoder, {args.records} texts, {args.epochs} epochs")
    print("                      embed once   epochs   training   whole run (with load/save)")
    for name, t in (("cached embeddings", cached_s), ("encoder each step", slow_s)):
        print(f"  {name:<18} {t['caching']:9.1f}s {t['epochs']:7.1f}s {t['training']:9.1f}s {t['total']:9.1f}s")
    print(f"  training ratio uncached/cached: {ratio:.1f}x (target >= 10x); same dev accuracy: {same}")
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "training_cache.json").write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
