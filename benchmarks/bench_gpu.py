"""Inference on a CUDA GPU: sentence-transformers fp32 against mtst fp32 and bf16, at batch 32 and 256.

Texts: the shipped data (train, dev and test splits) three times over. Median of 3 timed passes after a
warm-up, with the GPU synchronised around each; then bf16's minimum cosine and head agreement against fp32
on 2,000 of the texts. Needs a GPU; writes the JSON file named on the command line.

    python benchmarks/bench_gpu.py --model models/default benchmarks/results/gpu.json
"""

import argparse
import json
import os
import statistics
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, required=True, help="a trained mtst model folder")
    parser.add_argument("out", type=Path)
    args = parser.parse_args()

    import torch
    from sentence_transformers import SentenceTransformer

    from mtst.model import MultiTaskModel

    if not torch.cuda.is_available():
        raise SystemExit("no CUDA GPU here")
    texts = [
        json.loads(line)["text"]
        for split in ("train", "dev", "test")
        for line in (ROOT / "data" / "app" / f"{split}.jsonl").read_text().splitlines()
        if line.strip()
    ] * 3
    print(torch.cuda.get_device_name(0), len(texts), "texts", flush=True)
    models = {
        "sentence-transformers fp32": SentenceTransformer(str(args.model), device="cuda"),
        "mtst fp32": MultiTaskModel.load(args.model, device="cuda"),
        "mtst bf16": MultiTaskModel.load(args.model, device="cuda", precision="bf16"),
    }
    throughput = {}
    for batch in (32, 256):
        for name, model in models.items():
            if name.startswith("sentence"):
                run = lambda t, m=model, b=batch: m.encode(t, batch_size=b, normalize_embeddings=True)  # noqa: E731
            else:
                run = lambda t, m=model, b=batch: m.run(t, batch_size=b)  # noqa: E731
            run(texts[:512])
            seconds = []
            for _ in range(3):
                torch.cuda.synchronize()
                began = time.perf_counter()
                run(texts)
                torch.cuda.synchronize()
                seconds.append(time.perf_counter() - began)
            key = f"{name} batch {batch}"
            throughput[key] = len(texts) / statistics.median(seconds)
            print(f"{key}: {throughput[key]:.0f} texts/s", flush=True)
    reference = models["mtst fp32"].run(texts[:2000], batch_size=256)
    bf16 = models["mtst bf16"].run(texts[:2000], batch_size=256)
    cosine = float((reference.embeddings * bf16.embeddings).sum(1).min())
    agreement = {
        t: float((reference.probabilities[t].argmax(1) == bf16.probabilities[t].argmax(1)).mean())
        for t in reference.probabilities
    }
    print("bf16 vs fp32 on the GPU: min cosine", cosine, "head agreement", agreement)
    result = {"gpu": torch.cuda.get_device_name(0), "texts": len(texts), "throughput": throughput}
    result.update({"bf16_min_cosine": cosine, "bf16_agreement": agreement})
    args.out.write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
