"""What a change to the app data is judged by, for trained models named on the command line.

A data change is judged on trainings of configs/app.yaml under the same seeds with the data before and after,
against a rule written down before the first training (docs/training-considerations.md). This scores each
model on what such rules name:

- receipt_quality macro-F1 by top label (no confidence floor) on the pooled receipts written apart from the
  training sources (data/independent and data/written_apart), and on the test split;
- sentence_type and query_intent macro-F1 by top label on the independent set's messages and queries (its
  receipts left out, so that a receipt change moves only the receipt figures);
- the behavioural suite as `mtst behaviour` scores it (an answer withheld under the head's confidence floor
  fails its case): cases passed per receipt_quality capability, and how many receipt_quality capabilities and
  capabilities in all pass at 90%.

Writes benchmarks/results/decision_<name>.json with a table, one row per model, which the page that tells the
decision quotes verbatim (a test holds it to the file).

    .venv/bin/python benchmarks/judge_data_change.py --name reworded_totals "shipped, seed 13=RUN" "B, seed 13=RUN"
"""

import time
from collections import Counter
from pathlib import Path

from bench_app import DATA, INDEPENDENT, WRITTEN_APART_SET
from common import ROOT, base_parser, read_jsonl, score_probabilities, setup, write_results

SUITE = ROOT / "behaviour" / "app"


def judged_texts() -> dict[str, tuple[str, list[dict]]]:
    """Each figure's task and labelled records."""
    independent = [r for path in sorted(INDEPENDENT.glob("*.jsonl")) for r in read_jsonl(path)]
    apart = [r for folder in (INDEPENDENT, WRITTEN_APART_SET) for r in read_jsonl(folder / "receipts.jsonl")]
    test = [r for r in read_jsonl(DATA / "test.jsonl") if "receipt_quality" in r]
    return {
        "written_apart_receipt_quality": ("receipt_quality", apart),
        "test_receipt_quality": ("receipt_quality", test),
        "independent_sentence_type": (
            "sentence_type",
            [r for r in independent if "sentence_type" in r and "receipt_quality" not in r],
        ),
        "independent_query_intent": ("query_intent", [r for r in independent if "query_intent" in r]),
    }


def judge(folder: Path, texts: dict, suite: list) -> dict:
    from mtst.backend import load_model
    from mtst.behaviour import report, run_suite

    model = load_model(folder)
    scores, misses = {}, {}
    for figure, (task, records) in texts.items():
        probabilities = model.run([r["text"] for r in records], tasks=[task], embeddings=False).probabilities[task]
        gold = [r[task] for r in records]
        labels = model.tasks[task].labels
        scores[figure] = score_probabilities(probabilities, labels, gold)["macro_f1"] / 100
        wrong = Counter((g, labels[i]) for g, i in zip(gold, probabilities.argmax(axis=1), strict=True))
        misses[figure] = {f"{g} -> {p}": n for (g, p), n in sorted(wrong.items()) if g != p}
    capabilities = report(run_suite(model, suite))["capabilities"]
    receipts = [c for c in capabilities if c["task"] == "receipt_quality"]
    return {
        "model": str(folder),
        "macro_f1": scores,
        "misses": misses,  # "gold -> predicted": texts
        "receipt_capabilities_passed": {c["name"]: c["passed"] for c in receipts},
        "receipt_capability_cases": {c["name"]: c["cases"] for c in receipts},
        "receipt_capabilities_at_90": sum(c["pass_rate"] >= 0.9 for c in receipts),
        "capabilities_at_90": sum(c["pass_rate"] >= 0.9 for c in capabilities),
        "capabilities": len(capabilities),
    }


def table(runs: dict) -> str:
    names = list(next(iter(runs.values()))["receipt_capabilities_passed"])
    lines = [
        "| model | written-apart rq | test rq | independent st / qi | capabilities ≥ 90%: receipt, all | "
        + " | ".join(f"`{n.removeprefix('receipt_')}`" for n in names)
        + " |",
        "|---|---|---|---|---|" + "---|" * len(names),
    ]
    for label, run in runs.items():
        f1 = run["macro_f1"]
        passed = " | ".join(str(run["receipt_capabilities_passed"][n]) for n in names)
        lines.append(
            f"| {label} | {f1['written_apart_receipt_quality']:.3f} | {f1['test_receipt_quality']:.3f} | "
            f"{f1['independent_sentence_type']:.3f} / {f1['independent_query_intent']:.3f} | "
            f"{run['receipt_capabilities_at_90']} of {len(names)}, "
            f"{run['capabilities_at_90']} of {run['capabilities']} | {passed} |"
        )
    return "\n".join(lines)


def main() -> None:
    from mtst.behaviour import load_suite

    parser = base_parser(__doc__)
    parser.add_argument("--name", required=True, help="the change judged: the results file is decision_<name>.json")
    parser.add_argument("runs", nargs="+", metavar="LABEL=FOLDER", help="a trained model folder and its row's label")
    args = parser.parse_args()
    pairs = [run.partition("=") for run in args.runs]  # a folder may hold "=" (runs/lr=1e-4), a label may not
    for label, _, folder in pairs:
        if not label or not Path(folder).is_dir() or "|" in label:
            parser.error(f"{label}={folder}: each run is LABEL=FOLDER, FOLDER a trained model's folder, no | in LABEL")
    if len({label for label, _, _ in pairs}) < len(pairs):
        parser.error("two runs share a label: each row needs its own")
    info = setup(args)
    began = time.time()
    texts, suite = judged_texts(), load_suite(SUITE)
    runs = {label: judge(Path(folder), texts, suite) for label, _, folder in pairs}
    counts = {figure: len(records) for figure, (_, records) in texts.items()}
    write_results(
        f"decision_{args.name}",
        info,
        {"texts": counts, "runs": runs},
        {f"Judging '{args.name}' (macro-F1 by top label; suite as `mtst behaviour` scores it)": table(runs)},
        began,
    )


if __name__ == "__main__":
    main()
