"""Batch-scoring throughput on Ray Data, 1 actor against 2, beside the one-process path, in one run.

The same Parquet input (the app test split's texts, repeated to --rows) is scored three ways: `mtst predict`'s
one-process Parquet path (every core), then `--engine ray` on a local cluster of this machine's cores with 1
and with 2 actors (one CPU each). Each job's time includes what a user waits for: reading, scoring,
writing, and for Ray starting the actors and loading the model in each (the cluster itself is started once,
before, and timed apart). Checks that every run gives the same labels. Results: benchmarks/results/ray.json.

    python benchmarks/bench_ray.py [--rows 2400] [--model DIR]

With no trained model (models/default) it scores with an untrained model on the real encoder: the same
work per text.
"""

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

from common import CACHE, machine_info, markdown_table, write_results  # noqa: E402

TASKS = ["sentence_type", "receipt_quality", "query_intent"]


def bench_model(model: Path | None) -> Path:
    if model is not None:
        return model
    if (ROOT / "models" / "default" / "tasks.json").is_file():
        return ROOT / "models" / "default"
    folder = CACHE / "ray-untrained-model"
    if not (folder / "tasks.json").is_file():
        from mtst.model import MultiTaskModel

        MultiTaskModel().save(folder)
    return folder


def input_file(folder: Path, rows: int) -> Path:
    import pyarrow as pa
    import pyarrow.parquet as pq

    texts = [json.loads(line)["text"] for line in (ROOT / "data" / "app" / "test.jsonl").read_text().splitlines()]
    texts = [texts[i % len(texts)] for i in range(rows)]
    path = folder / "input" / "texts.parquet"
    path.parent.mkdir(parents=True)
    pq.write_table(pa.table({"text": texts}), path, row_group_size=512)
    return path


def labels(table) -> dict[str, list]:
    return {t: [row["label"] for row in table.column(t).to_pylist()] for t in TASKS}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2400)
    parser.add_argument("--model", type=Path)
    parser.add_argument("--rows-per-batch", type=int, default=256)
    args = parser.parse_args()
    began = time.time()
    info = {**machine_info(), "load_average_at_start": round(os.getloadavg()[0], 2), "rows": args.rows}

    import pyarrow as pa
    import pyarrow.parquet as pq
    import ray

    from mtst.model import MultiTaskModel
    from mtst.prediction_io import predict_stream
    from mtst.ray_predict import predict_ray

    model_dir = bench_model(args.model)
    work = Path(tempfile.mkdtemp(prefix="mtst-bench-ray-"))
    source = input_file(work, args.rows)
    runs = []

    start = time.perf_counter()
    model = MultiTaskModel.load(model_dir)
    predict_stream(model, source, work / "local.parquet", TASKS)
    seconds = time.perf_counter() - start
    reference = labels(pq.read_table(work / "local.parquet"))
    runs.append({"engine": "local (one process, every core)", "actors": "-", "seconds": seconds, "same": True})
    del model

    start = time.perf_counter()
    ray.init(num_cpus=os.cpu_count(), include_dashboard=False, log_to_driver=False)
    cluster_start = time.perf_counter() - start
    for actors in (1, 2):
        start = time.perf_counter()
        out = predict_ray(model_dir, source, work / f"ray-{actors}", actors=actors, rows_per_batch=args.rows_per_batch)
        seconds = time.perf_counter() - start
        table = pa.concat_tables([pq.read_table(p) for p in sorted(out.glob("part-*.parquet"))])
        same = labels(table) == reference
        runs.append({"engine": "ray", "actors": actors, "seconds": seconds, "same": same})
    ray.shutdown()

    rows = [
        [r["engine"], r["actors"], round(r["seconds"], 1), round(args.rows / r["seconds"], 1), r["same"]] for r in runs
    ]
    one, two = runs[1]["seconds"], runs[2]["seconds"]
    table = markdown_table(["engine", "actors", "seconds", "texts/s", "labels equal local"], rows)
    payload = {"runs": runs, "ray_cluster_start_seconds": cluster_start, "two_actors_speedup": one / two}
    print(f"ray cluster start: {cluster_start:.1f} s; 2 actors / 1 actor: {one / two:.2f}x")
    write_results("ray", info, payload, {f"Batch scoring, {args.rows} texts": table}, began)


if __name__ == "__main__":
    main()
