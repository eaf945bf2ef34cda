"""Write the data card's tables (docs/data.md): counts and lengths from data/app/*.jsonl, and the shortcut
audit from benchmarks/results/shortcut_audit{,_previous}.json (data/tools/shortcut_audit.py writes those).

    python data/tools/data_card.py          # rewrite the tables between their markers
    python data/tools/data_card.py --check  # exit 1 when docs/data.md differs from the files

`make data` runs it after the build, so the card never quotes counts of an older build.
"""

import argparse
import json
import statistics
import sys
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
DATA = ROOT / "data" / "app"
CARD = ROOT / "docs" / "data.md"
RESULTS = ROOT / "benchmarks" / "results"
sys.path.insert(0, str(ROOT / "benchmarks"))
from markers import marked, with_marked  # noqa: E402

START, END = "<!-- tables:start (data/tools/data_card.py writes this) -->", "<!-- tables:end -->"
AUDIT_START, AUDIT_END = "<!-- audit:start (data/tools/data_card.py writes this) -->", "<!-- audit:end -->"
SPLITS = ("train", "dev", "test")
LABELS = {
    "text_kind": ("message", "ocr_receipt", "search_query"),
    "sentence_type": ("fraud_alert", "help_request", "offer", "receipt", "generic_text"),
    "receipt_quality": ("good_quality", "blurry", "incomplete"),
    "query_intent": ("brand_search", "deal_search", "support_search", "promo_search"),
}


def read(split: str) -> list[dict]:
    with open(DATA / f"{split}.jsonl", encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def count_table(splits: dict[str, list[dict]]) -> list[str]:
    head = " | ".join(f"`{task}` ({' / '.join(labels)})" for task, labels in LABELS.items())
    lines = [f"| split | records | {head} |", "|---|---|" + "---|" * len(LABELS)]
    for name, records in splits.items():
        counts = Counter((task, r[task]) for r in records for task in LABELS if task in r)
        cells = [" / ".join(f"{counts[(task, label)]:,}" for label in labels) for task, labels in LABELS.items()]
        lines.append(f"| {name} | {len(records):,} | " + " | ".join(cells) + " |")
    return lines


def quartiles(values: list[int]) -> tuple[float, float, float]:
    q1, median, q3 = statistics.quantiles(values, n=4, method="inclusive")
    return q1, median, q3


def length_table(splits: dict[str, list[dict]]) -> list[str]:
    sys.path.insert(0, str(HERE))
    from receipts import token_counts

    lines = [
        "| split | label | receipts | min | quartile 1 | median | quartile 3 | max | mean lines (range) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name in ("train", "test"):
        for label in LABELS["receipt_quality"]:
            texts = [r["text"] for r in splits[name] if r.get("receipt_quality") == label]
            tokens = token_counts(texts)
            rows = [t.count("\n") + 1 for t in texts]
            q1, median, q3 = quartiles(tokens)
            lines.append(
                f"| {name} | {label} | {len(texts)} | {min(tokens)} | {q1:.0f} | {median:.0f} | {q3:.0f} "
                f"| {max(tokens)} | {statistics.mean(rows):.1f} ({min(rows)}-{max(rows)}) |"
            )
    return lines


def audit_tables() -> str:
    now = json.loads((RESULTS / "shortcut_audit.json").read_text())
    before = json.loads((RESULTS / "shortcut_audit_previous.json").read_text())

    def pair(result: dict | None) -> str:
        return " | ".join("-" if result is None else f"{result[split]:.3f}" for split in ("dev", "test"))

    def band(result: dict, i: int) -> dict:
        row = result["receipt_quality_length_bands"]["bands"][i]
        return {split: row[f"{split}_good_vs_incomplete"] for split in ("dev", "test")}

    rows = [
        ("`receipt_quality` (3 classes)", lambda r: r["tasks"]["receipt_quality"]),
        ("`receipt_quality` good vs incomplete", lambda r: r["good_vs_incomplete"]),
        ("good vs incomplete, shortest third of receipts", lambda r: band(r, 0)),
        ("good vs incomplete, middle third", lambda r: band(r, 1)),
        ("good vs incomplete, longest third", lambda r: band(r, 2)),
        ("`sentence_type`", lambda r: r["tasks"]["sentence_type"]),
        ("`query_intent`", lambda r: r["tasks"]["query_intent"]),
        ("`text_kind`", lambda r: r["tasks"].get("text_kind")),
    ]
    lines = [
        "| surface-feature classifier, macro-F1 | previous dataset: dev | test | this dataset: dev | test |",
        "|---|---|---|---|---|",
    ]
    lines += [f"| {name} | {pair(get(before))} | {pair(get(now))} |" for name, get in rows]
    lines += [
        "",
        "| mean words per receipt (good_quality / blurry / incomplete) | train | dev | test |",
        "|---|---|---|---|",
    ]
    for name, result in (("previous dataset", before), ("this dataset", now)):
        words = result["receipt_quality_mean_words"]
        cells = [" / ".join(f"{words[split][label]:.1f}" for label in LABELS["receipt_quality"]) for split in SPLITS]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def tables() -> str:
    splits = {name: read(name) for name in SPLITS}
    parts = [
        "## Counts",
        "",
        *count_table(splits),
        "",
        "Receipt lengths in encoder tokens (all-MiniLM-L6-v2, with [CLS] and [SEP]) and lines:",
        "",
        *length_table(splits),
    ]
    return "\n".join(parts)


def section(card: str, start: str = START, end: str = END) -> str | None:
    return marked(card, start, end)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args()
    card = CARD.read_text(encoding="utf-8")
    wanted = {(START, END): tables(), (AUDIT_START, AUDIT_END): audit_tables()}
    for start, end in wanted:
        if section(card, start, end) is None:
            sys.exit(f"{CARD} has no {start} ... {end} markers")
    if args.check:
        stale = any(section(card, *markers) != text for markers, text in wanted.items())
        sys.exit(f"{CARD}'s tables differ from the data and results: run {Path(__file__).name}" if stale else 0)
    for (start, end), text in wanted.items():
        card = with_marked(card, start, end, text)
    CARD.write_text(card, encoding="utf-8")
    print(f"wrote the tables of {CARD.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
