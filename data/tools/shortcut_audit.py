"""Shortcut audit: how far surface features alone (length, digits, `$`, case, punctuation) get on each task.

    python data/tools/shortcut_audit.py [--data data/app] [--out benchmarks/results/shortcut_audit.json]

For each task a gradient-boosting classifier is trained on the train split's surface features and
scored (macro-F1) on dev and test. A label that such a classifier predicts well is partly learnable
without reading the text. For receipt_quality the same is done within bands of line count (tertiles
fitted on train): inside a band, length is roughly fixed, so good_quality vs incomplete should sit
near chance (0.5) if the data carries no length shortcut. Writes the figures as JSON and prints a
markdown table.
"""

import argparse
import json
import string
from pathlib import Path

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import f1_score
from threadpoolctl import threadpool_limits

ROOT = Path(__file__).resolve().parent.parent.parent
TASKS = ("sentence_type", "receipt_quality", "query_intent", "text_kind")
FEATURES = ("chars", "words", "lines", "digits", "dollars", "upper_ratio", "punctuation")
SPLITS = ("train", "dev", "test")
SEED = 0


def surface_features(text: str) -> list[float]:
    letters = sum(c.isalpha() for c in text)
    return [
        len(text),
        len(text.split()),
        text.count("\n") + 1,
        sum(c.isdigit() for c in text),
        text.count("$"),
        sum(c.isupper() for c in text) / max(1, letters),
        sum(c in string.punctuation for c in text),
    ]


def read_split(folder: Path, split: str) -> list[dict]:
    path = folder / f"{split}.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def task_rows(records: list[dict], task: str) -> tuple[np.ndarray, np.ndarray]:
    rows = [r for r in records if task in r]
    x = np.array([surface_features(r["text"]) for r in rows], dtype=float).reshape(-1, len(FEATURES))
    return x, np.array([r[task] for r in rows])


def fit(x: np.ndarray, y: np.ndarray) -> HistGradientBoostingClassifier:
    return HistGradientBoostingClassifier(max_iter=200, learning_rate=0.1, random_state=SEED).fit(x, y)


def macro_f1(model, x: np.ndarray, y: np.ndarray) -> float | None:
    if len(y) == 0:
        return None
    return round(float(f1_score(y, model.predict(x), average="macro")), 3)


def band_scores(data: dict[str, tuple[np.ndarray, np.ndarray]]) -> dict:
    """receipt_quality within tertiles of line count (fitted on train): 3-class and good-vs-incomplete."""
    lines = FEATURES.index("lines")
    x_train, y_train = data["train"]
    edges = [float(e) for e in np.quantile(x_train[:, lines], [1 / 3, 2 / 3])]
    out = {"line_edges": edges, "bands": []}
    for band in range(3):

        def pick(x, y, pair=False, band=band):
            idx = np.digitize(x[:, lines], edges, right=True) == band
            if pair:
                idx &= np.isin(y, ("good_quality", "incomplete"))
            return x[idx], y[idx]

        row = {"band": band, "n_train": int(len(pick(*data["train"])[1]))}
        for pair, name in ((False, "3class"), (True, "good_vs_incomplete")):
            xt, yt = pick(*data["train"], pair=pair)
            if len(set(yt)) < 2:
                continue
            model = fit(xt, yt)
            for split in ("dev", "test"):
                row[f"{split}_{name}"] = macro_f1(model, *pick(*data[split], pair=pair))
        out["bands"].append(row)
    return out


def audit(folder: Path) -> dict:
    splits = {s: read_split(folder, s) for s in SPLITS}
    result = {
        "data": str(folder.resolve().relative_to(ROOT)) if folder.resolve().is_relative_to(ROOT) else str(folder),
        "features": list(FEATURES),
        "tasks": {},
    }
    for task in TASKS:
        data = {s: task_rows(splits[s], task) for s in SPLITS}
        if len(set(data["train"][1])) < 2:
            continue
        model = fit(*data["train"])
        result["tasks"][task] = {s: macro_f1(model, *data[s]) for s in ("dev", "test")}
    rq = {s: task_rows(splits[s], "receipt_quality") for s in SPLITS}
    pair = {s: (x[y != "blurry"], y[y != "blurry"]) for s, (x, y) in rq.items()}
    model = fit(*pair["train"])
    result["good_vs_incomplete"] = {s: macro_f1(model, *pair[s]) for s in ("dev", "test")}
    result["receipt_quality_length_bands"] = band_scores(rq)
    words = FEATURES.index("words")
    result["receipt_quality_mean_words"] = {
        s: {lab: round(float(x[y == lab, words].mean()), 1) for lab in sorted(set(y))} for s, (x, y) in rq.items()
    }
    return result


def markdown(result: dict) -> str:
    out = ["| task | dev macro-F1 | test macro-F1 |", "|---|---|---|"]
    out += [f"| `{t}` | {s['dev']} | {s['test']} |" for t, s in result["tasks"].items()]
    pair = result["good_vs_incomplete"]
    out.append(f"| `receipt_quality` good vs incomplete | {pair['dev']} | {pair['test']} |")
    bands = result["receipt_quality_length_bands"]
    out += [
        "",
        f"`receipt_quality` within line-count bands (edges {bands['line_edges']}, fitted on train):",
        "",
        "| band | train n | dev 3-class | test 3-class | dev good vs incomplete | test good vs incomplete |",
        "|---|---|---|---|---|---|",
    ]
    for b in bands["bands"]:
        out.append(
            f"| {b['band']} | {b['n_train']} | {b.get('dev_3class')} | {b.get('test_3class')} | "
            f"{b.get('dev_good_vs_incomplete')} | {b.get('test_good_vs_incomplete')} |"
        )
    out += ["", "Mean words per receipt:", "", "| split | " + " | ".join(LABEL_ORDER) + " |", "|---|---|---|---|"]
    for split, means in result["receipt_quality_mean_words"].items():
        out.append(f"| {split} | " + " | ".join(str(means.get(lab)) for lab in LABEL_ORDER) + " |")
    return "\n".join(out)


LABEL_ORDER = ("good_quality", "blurry", "incomplete")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT / "data" / "app")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "shortcut_audit.json")
    args = parser.parse_args()
    with threadpool_limits(1):  # small fits: one thread is as fast, and threads spin on a busy machine
        result = audit(args.data)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(markdown(result))


if __name__ == "__main__":
    main()
