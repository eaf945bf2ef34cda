"""bf16 on a CPU that has it: mtst's autocast path against a bf16 copy of the weights, fp32 and sentence-transformers.

mtst's `precision="bf16"` autocasts the transformer (weights stay fp32, matrix work runs in bf16). The other
way is to store the weights in bf16 and run every operation in bf16. This measures both on the same texts,
batch 32, median of 3 interleaved runs: texts/s, the ratio to `SentenceTransformer.encode`, minimum cosine to
mtst fp32 and head agreement with it. On a CPU without AVX-512 BF16 or AMX the autocast path falls back to fp32
and bf16 weights are emulated, so the script refuses unless `--force`.

    .venv/bin/python benchmarks/bench_bf16.py --model models/default [--texts 600] [--force]
"""

import argparse
import copy
import json
import os
import statistics
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

ROOT = Path(__file__).resolve().parent.parent
APP_TEST = ROOT / "data" / "app" / "test.jsonl"


def bf16_weights_model(folder: Path):
    """An mtst model whose encoder (both branches) holds bf16 weights; pooling, normalisation and heads stay fp32."""
    import torch

    from mtst.model import MultiTaskModel

    model = MultiTaskModel.load(folder, device="cpu")
    enc = model.encoder
    enc.transformer = copy.deepcopy(enc.transformer).to(torch.bfloat16)
    if enc.tuned is not None:
        enc.tuned = copy.deepcopy(enc.tuned).to(torch.bfloat16)
    return model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, required=True, help="a trained mtst model folder")
    parser.add_argument("--texts", type=int, default=600, help="how many texts of the shipped test split")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--force", action="store_true", help="run even where bf16 is emulated (slow)")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "bf16.json")
    args = parser.parse_args()

    import torch
    from sentence_transformers import SentenceTransformer

    from mtst.device import bf16_supported
    from mtst.model import MultiTaskModel

    native = bf16_supported(torch.device("cpu"))
    if not native and not args.force:
        raise SystemExit("this CPU has no native bf16 (AVX-512 BF16 or AMX): nothing to measure (--force runs anyway)")
    texts = [json.loads(line)["text"] for line in APP_TEST.read_text().splitlines() if line.strip()][: args.texts]
    st = SentenceTransformer(str(args.model), device="cpu")
    fp32 = MultiTaskModel.load(args.model, device="cpu")
    autocast = MultiTaskModel.load(args.model, device="cpu", precision="bf16")
    weights = bf16_weights_model(args.model)
    paths = {
        "sentence-transformers fp32": lambda: st.encode(texts, batch_size=32, normalize_embeddings=True),
        "mtst fp32": lambda: fp32.run(texts, batch_size=32),
        "mtst bf16 autocast (shipped)": lambda: autocast.run(texts, batch_size=32),
        "bf16 weights": lambda: weights.run(texts, batch_size=32),
    }
    for run in paths.values():  # warm-up
        run()
    seconds = {name: [] for name in paths}
    outputs = {}
    for _ in range(args.runs):  # interleaved, so every path sees the same machine
        for name, run in paths.items():
            began = time.perf_counter()
            outputs[name] = run()
            seconds[name].append(time.perf_counter() - began)
    reference = outputs["mtst fp32"]
    st_speed = len(texts) / statistics.median(seconds["sentence-transformers fp32"])
    rows = {}
    for name in paths:
        result = outputs[name]
        embeddings = result if name.startswith("sentence") else result.embeddings
        speed = len(texts) / statistics.median(seconds[name])
        row = {
            "texts_per_s": speed,
            "x_sentence_transformers": speed / st_speed,
            "min_cosine_vs_fp32": float((embeddings * reference.embeddings).sum(axis=1).min()),
        }
        if not name.startswith("sentence"):
            row["head_agreement"] = {
                t: float((result.probabilities[t].argmax(1) == reference.probabilities[t].argmax(1)).mean())
                for t in reference.probabilities
            }
        rows[name] = row
        print(
            f"{name:30} {speed:7.1f} texts/s  {row['x_sentence_transformers']:.2f}x  "
            f"min cosine {row['min_cosine_vs_fp32']:.6f}  {row.get('head_agreement', '')}"
        )
    with open("/proc/cpuinfo") as f:
        cpu = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), "unknown")
    result = {
        "cpu": cpu,
        "cores": len(os.sched_getaffinity(0)),
        "native_bf16": native,
        "torch": torch.__version__,
        "texts": len(texts),
        "batch_size": 32,
        "runs": args.runs,
        "paths": rows,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
