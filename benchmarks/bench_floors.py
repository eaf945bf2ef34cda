"""Two ways to choose a head's confidence floor on dev, side by side, for each seed of the default config.

mtst's rule (mtst.abstention.choose_floor): the lowest floor at which the dev answers kept are expected, by
their calibrated confidence, to reach the target precision. The rule it replaced: the lowest floor at which a
count of dev's hits above it reaches the target. For each, the floor and, on the test split, the share of
texts answered and their accuracy; on the independent set, macro-F1 of the labels served (an unanswered text
counts as a miss). Models come from bench_seeds.py (trained there when missing). Writes
benchmarks/results/floors.json.

    .venv/bin/python benchmarks/bench_floors.py [--seeds 13,14,15,16]
"""

import time

import numpy as np
from bench_app import CONFIG, DATA, INDEPENDENT
from bench_seeds import model_for_seed, parse_seed_args
from common import setup, write_results

TASK = "receipt_quality"  # the only head whose floor leaves texts unanswered on the app data


def floor_by_count(confidence: np.ndarray, correct: np.ndarray, precision: float) -> float:
    """The replaced rule: the lowest floor with dev accuracy >= precision above it (ties kept together)."""
    order = np.argsort(-confidence, kind="stable")
    conf, hits = confidence[order], correct[order].astype(np.float64)
    accuracy = np.cumsum(hits) / np.arange(1, len(hits) + 1)
    last_of_tie = np.append(conf[1:] != conf[:-1], True)
    reached = np.flatnonzero(last_of_tie & (accuracy >= precision))
    return 1.0 if len(reached) == 0 else float(conf[reached[-1]])


def scored(model, records) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Calibrated confidence, predicted label index and gold label index of the records labelled for TASK."""
    spec = model.tasks[TASK]
    records = [r for r in records if TASK in r.labels]
    p = model.run([r.text for r in records], tasks=[TASK], embeddings=False).probabilities[TASK]
    return p.max(axis=1), p.argmax(axis=1), np.array([spec.index(r.labels[TASK]) for r in records])


def measure(folder, precision: float) -> dict:
    from sklearn.metrics import f1_score

    from mtst.abstention import choose_floor, selective
    from mtst.data import load_records
    from mtst.model import MultiTaskModel

    model = MultiTaskModel.load(folder)
    specs = list(model.tasks.values())
    dev = scored(model, load_records([DATA / "dev.jsonl"], specs))
    test = scored(model, load_records([DATA / "test.jsonl"], specs))
    independent = scored(model, load_records(sorted(INDEPENDENT.glob("*.jsonl")), specs))
    floors = {
        "expected (mtst)": choose_floor(dev[0], precision),
        "count of hits (replaced)": floor_by_count(dev[0], dev[1] == dev[2], precision),
    }
    out = {}
    for rule, floor in floors.items():
        served = np.where(independent[0] >= floor, independent[1], -1)  # -1: unanswered, a miss
        labels = list(range(len(model.tasks[TASK].labels)))
        out[rule] = {
            "floor": floor,
            "test": selective(test[0], test[1] == test[2], floor),
            "independent_served_macro_f1": float(f1_score(independent[2], served, labels=labels, average="macro")),
        }
    return out


def table(runs: dict, precision: float) -> str:
    lines = [
        f"| seed | rule | floor | test answered | test accuracy above the floor (target {precision:.2f}) "
        "| independent set macro-F1, labels served |",
        "|---|---|---|---|---|---|",
    ]
    for seed, rules in runs.items():
        for rule, r in rules.items():
            lines.append(
                f"| {seed} | {rule} | {r['floor']:.2f} | {r['test']['coverage']:.1%} | {r['test']['accuracy']:.1%} "
                f"| {r['independent_served_macro_f1']:.3f} |"
            )
    return "\n".join(lines)


def main() -> None:
    from mtst.config import load_config

    args = parse_seed_args(__doc__)
    info = setup(args)
    began = time.time()
    precision = load_config(CONFIG).abstain_precision()[TASK]
    runs = {seed: measure(model_for_seed(seed, args.quick), precision) for seed in args.seeds}
    tables = {f"Choosing the {TASK} floor on dev: expected accuracy against a count of hits": table(runs, precision)}
    write_results("floors", info, {"task": TASK, "precision": precision, "runs": runs}, tables, began)


if __name__ == "__main__":
    main()
