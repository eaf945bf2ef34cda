"""Build data/app/{train,dev,test}.jsonl from the hand-written sources and the receipt generator.

    python data/tools/build_app_data.py

Deterministic: the same sources and seed give the same files, byte for byte.

- data/sources/train/: messages, queries and receipts written for training; split into train and dev.
- data/sources/test/: messages, queries and receipts written apart, in other words and situations.
- data/sources/train_only/: texts for training only; they join train after the split, so dev stays as it was.
- Hand-written whole training receipts also come without their header, without their total (incomplete) and
  blurred, by receipts.py's own cuts and noise.
- More receipts come from receipts.py, every label sampled to the same length bands; the test split
  uses its held-out stores, items and noise ranges. Train also gets receipts longer than the encoder's
  window (RECEIPTS_LONG), every label alike, for the default model's head-and-tail cut (long hand-written
  training-only receipts stay for the same reason), and snippets of
  receipts (RECEIPT_SNIPPETS: a header, a few items or the totals alone) labelled for the router only.
- Every record gets text_kind: message, ocr_receipt or search_query.
- A third of the training messages and queries also appear with one typo (two letters swapped).
- No text twice, and no near-duplicate across splits (same up to case, punctuation, digits
  or a swapped brand): a training text that collides with a test text, or with a text of the behavioural
  suite (behaviour/app, read with mtst's loader for this only), of the independent evaluation set
  (data/independent) or of the written-apart set (data/written_apart), is dropped from training.
"""

import json
import random
import re
import sys
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
SOURCES = ROOT / "data" / "sources"
OUT = ROOT / "data" / "app"
SUITE = ROOT / "behaviour" / "app"  # read only to keep its texts out of training
INDEPENDENT = ROOT / "data" / "independent"  # likewise: an evaluation set written apart from this project
WRITTEN_APART = ROOT / "data" / "written_apart"  # likewise: texts written apart to judge data changes
SEED = 20261127
DEV_FRACTION = 0.15
RECEIPTS_TRAIN = {"good_quality": 400, "blurry": 400, "incomplete": 400}
RECEIPTS_TEST = {"good_quality": 100, "blurry": 100, "incomplete": 100}
RECEIPTS_LONG = {"good_quality": 120, "blurry": 120, "incomplete": 120}  # train only, MAX_TOKENS to LONG_TOKENS
LONG_TOKENS = 900
RECEIPT_SNIPPETS = 150  # train only: a receipt's header, items or totals alone, labelled for the router only
FIELD_ORDER = ("text", "text_kind", "sentence_type", "receipt_quality", "query_intent")
RECEIPT_SEPARATOR = "---"
TYPO_FRACTION = 0.3  # training messages and queries that also appear once with a typo

sys.path.insert(0, str(HERE))
from receipts import (  # noqa: E402
    MAX_TOKENS,
    generate_receipts,
    hand_written_variants,
    length_band,
    receipt_snippets,
    token_counts,
)


def read_lines(path: Path) -> list[str]:
    return [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def read_receipts(path: Path) -> list[str]:
    """Receipts one after another, separated by a line holding only `---`; each keeps its own lines."""
    texts, current = [], []
    for line in path.read_text(encoding="utf-8").splitlines() + [RECEIPT_SEPARATOR]:
        if line.strip() == RECEIPT_SEPARATOR:
            text = "\n".join(current).strip("\n")
            if text.strip():
                texts.append(text)
            current = []
        else:
            current.append(line.rstrip())
    return texts


def source_records(folder: Path) -> list[dict]:
    """messages/<label>[.part].txt -> sentence_type; queries/<label>[.part].txt -> query_intent;
    receipts/<label>[.part].txt -> receipt_quality (and sentence_type receipt)."""
    records = []
    for kind, task in (("messages", "sentence_type"), ("queries", "query_intent")):
        for path in sorted((folder / kind).glob("*.txt")):
            label = path.name.split(".")[0]
            records += [{"text": text, task: label} for text in read_lines(path)]
    for path in sorted((folder / "receipts").glob("*.txt")):
        label = path.name.split(".")[0]
        records += [
            {"text": text, "sentence_type": "receipt", "receipt_quality": label} for text in read_receipts(path)
        ]
    return records


def text_kind(record: dict) -> str:
    """Which heads apply: receipt OCR text, search query, or any other message (purchase statements too)."""
    if "receipt_quality" in record:
        return "ocr_receipt"
    if "query_intent" in record:
        return "search_query"
    return "message"


def within_encoder(records: list[dict]) -> list[dict]:
    """Drop receipts the encoder would truncate: a whole receipt cut before its total reads as incomplete."""
    receipts = [r for r in records if "receipt_quality" in r]
    too_long = {
        id(r) for r, n in zip(receipts, token_counts([r["text"] for r in receipts]), strict=True) if n > MAX_TOKENS
    }
    if too_long:
        print(f"dropped {len(too_long)} hand-written receipts longer than {MAX_TOKENS} tokens")
    return [r for r in records if id(r) not in too_long]


def generated_receipts(counts: dict[str, int], seed: int, holdout: bool = False, **token_range) -> list[dict]:
    """The generator's receipts, each with its length band, so that train and dev get the same mix of lengths."""
    records = generate_receipts(counts, seed=seed, holdout=holdout, **token_range)
    lengths = token_counts([r["text"] for r in records])
    for record, n_tokens in zip(records, lengths, strict=True):
        record["_band"] = "{}-{}".format(*length_band(record["text"], n_tokens))
    return records


def suite_texts(folder: Path) -> list[str]:
    """Every text the behavioural suite checks, as mtst's own loader reads it: cases, variants, shared bases
    and the texts its perturbations make."""
    from mtst.behaviour import load_suite

    return [check.text for capability in load_suite(folder) for case in capability.cases for check in case.checks]


def evaluation_texts(folder: Path) -> list[str]:
    """The texts of an evaluation set written apart (data/independent/*.jsonl, data/written_apart/*.jsonl)."""
    return [json.loads(line)["text"] for path in sorted(folder.glob("*.jsonl")) for line in read_lines(path)]


def brand_pattern() -> re.Pattern:
    names = sorted({n.strip().lower() for n in read_lines(HERE / "brands.txt")}, key=len, reverse=True)
    return re.compile(r"\b(" + "|".join(re.escape(n) for n in names) + r")\b")


BRANDS = brand_pattern()


def near_key(text: str) -> str:
    """Equal keys: the same text up to case, punctuation, digits or a swapped brand (a known brand is
    erased, so a text that is only a brand has an empty key: is_bare)."""
    # Spacing is ignored too: "bogo chips" and "bogochips" are one text.
    return re.sub(r"[^a-z]+", "", BRANDS.sub(" ", text.lower()))


def split_keys(text: str) -> set[str]:
    """Keys under which two splits may not share a text: its near_key, and its letters alone (which
    also catches a brand written without its space, "dollartree", that the brand list does not know)."""
    return {near_key(text), re.sub(r"[^a-z]", "", text.lower())}


def is_bare(key: str) -> bool:
    """A near_key of a text that is only a brand name: every bare brand shares it (the empty key)."""
    return not key


def guard_keys(texts: list[str]) -> set[str]:
    """The split_keys that texts hold against another split, less the bare-name near_key: a bare brand
    ("tide") would otherwise rule out every bare brand in training ("costco"); its letters key still
    rules out the same name."""
    return {k for t in texts for k in split_keys(t) if not is_bare(k)}


def exact_key(text: str) -> str:
    return " ".join(text.lower().split())


def dedupe(records: list[dict]) -> list[dict]:
    seen, kept = set(), []
    for r in records:
        k = exact_key(r["text"])
        if k not in seen:
            seen.add(k)
            kept.append(r)
    return kept


def ordered(record: dict) -> dict:
    return {k: record[k] for k in FIELD_ORDER if k in record}


def stratified_split(records: list[dict], fraction: float, rng: random.Random) -> tuple[list[dict], list[dict]]:
    by_label: dict[str, list[dict]] = {}
    for r in records:
        key = "|".join(f"{k}={v}" for k, v in sorted(r.items()) if k != "text")
        by_label.setdefault(key, []).append(r)
    train, dev = [], []
    for key in sorted(by_label):
        group = by_label[key]
        rng.shuffle(group)
        n_dev = round(len(group) * fraction)
        dev += group[:n_dev]
        train += group[n_dev:]
    return train, dev


def with_typo(text: str, rng: random.Random) -> str | None:
    """The text with two neighbouring letters swapped inside one word of 4+ letters (None: no such word)."""
    words = [m for m in re.finditer(r"[A-Za-z]{4,}", text) if len(set(m.group())) > 1]
    if not words:
        return None
    word = rng.choice(words)
    i = rng.choice([j for j in range(word.start() + 1, word.end() - 1) if text[j] != text[j + 1]] or [None])
    if i is None:
        return None
    return text[:i] + text[i + 1] + text[i] + text[i + 2 :]


def typo_copies(train: list[dict], taken: set[str], rng: random.Random) -> list[dict]:
    """Copies of some training messages and queries with one typo each, so that one slip of the finger does
    not move a label (users type fast on phones). Receipts are left alone: OCR damage is the blurry label's
    business. A copy that would meet a dev or test text is skipped."""
    copies, seen = [], {exact_key(r["text"]) for r in train}
    for record in train:
        if record["text_kind"] == "ocr_receipt" or rng.random() >= TYPO_FRACTION:
            continue
        text = with_typo(record["text"], rng)
        if text is None or exact_key(text) in seen or split_keys(text) & taken:
            continue
        seen.add(exact_key(text))
        copies.append({**record, "text": text})
    print(f"added {len(copies)} training copies with a typo")
    return copies


def receipt_variants(train: list[dict], taken: set[str], rng: random.Random) -> list[dict]:
    """Incomplete and blurry copies of the hand-written whole training receipts (the generator's carry a
    length band; these do not): each such layout is then seen whole, cut and blurred, so that what tells
    the labels apart is a missing part or a bad scan, not the layout. A copy that would meet a dev or test
    text is skipped."""
    copies, seen = [], {exact_key(r["text"]) for r in train}
    whole = [r for r in train if r.get("receipt_quality") == "good_quality" and "_band" not in r]
    for record in whole:
        for variant in hand_written_variants(record["text"], rng):
            if exact_key(variant["text"]) in seen or split_keys(variant["text"]) & taken:
                continue
            seen.add(exact_key(variant["text"]))
            copies.append({**variant, "sentence_type": "receipt", "text_kind": "ocr_receipt"})
    print(f"added {len(copies)} incomplete and blurry copies of {len(whole)} hand-written whole receipts")
    return copies


def write_jsonl(path: Path, records: list[dict]) -> None:
    path.write_text("".join(json.dumps(ordered(r), ensure_ascii=False) + "\n" for r in records), encoding="utf-8")


def main() -> None:
    rng = random.Random(SEED)
    pool = dedupe(within_encoder(source_records(SOURCES / "train")) + generated_receipts(RECEIPTS_TRAIN, seed=SEED))
    test = within_encoder(source_records(SOURCES / "test"))
    test = dedupe(test + generated_receipts(RECEIPTS_TEST, seed=SEED + 1, holdout=True))
    for record in pool + test:
        record["text_kind"] = text_kind(record)

    # Near-duplicates across splits: drop the training copy, except for bare names (a test query
    # that is only a brand would collide with every bare brand in training; the test copy goes).
    test_keys = guard_keys([r["text"] for r in test])  # a dropped bare name's letters key still holds
    dropped_test = [r for r in test if is_bare(near_key(r["text"]))]
    test = [r for r in test if not is_bare(near_key(r["text"]))]
    kept = [r for r in pool if not split_keys(r["text"]) & test_keys]
    print(
        f"dropped {len(pool) - len(kept)} training texts near-duplicating test texts, "
        f"{len(dropped_test)} bare-name test queries"
    )

    train, dev = stratified_split(kept, DEV_FRACTION, rng)
    dev_keys = guard_keys([r["text"] for r in dev])
    train = [r for r in train if not split_keys(r["text"]) & dev_keys]
    for split in (train, dev):
        rng.shuffle(split)
    random.Random(SEED + 3).shuffle(test)  # its own generator: adding training sources leaves test as it is
    # With generators of their own, so that dev and test stay exactly as they were without the copies.
    train += typo_copies(train, dev_keys | test_keys, random.Random(SEED + 1))
    # Texts written for training only come in after the split, so that dev stays as it was. Long hand-written
    # receipts stay: the default model reads their head and tail, as it will read a long receipt it serves.
    train += [
        r | {"text_kind": text_kind(r)}
        for r in source_records(SOURCES / "train_only")
        if not split_keys(r["text"]) & (dev_keys | test_keys)
    ]
    # Receipts longer than the encoder's window, which the default model cuts to their head and tail
    # (configs/app.yaml): every label alike, so that a long whole receipt is not taken for a cut one.
    train += [
        r | {"text_kind": "ocr_receipt"}
        for r in generated_receipts(RECEIPTS_LONG, seed=SEED + 5, min_tokens=MAX_TOKENS + 1, max_tokens=LONG_TOKENS)
        if not split_keys(r["text"]) & (dev_keys | test_keys)
    ]
    train += receipt_variants(train, dev_keys | test_keys, random.Random(SEED + 4))
    # Snippets of receipts (a header alone, a few items, the totals) are receipts to the router and to
    # sentence_type; they carry no receipt_quality label, so that head's sense of length stays as it is.
    train += [
        {"text": t, "text_kind": "ocr_receipt", "sentence_type": "receipt"}
        for t in receipt_snippets(RECEIPT_SNIPPETS, seed=SEED + 6)
        if not split_keys(t) & (dev_keys | test_keys)
    ]
    random.Random(SEED + 2).shuffle(train)
    # The behavioural suite judges the model on texts it never trained on: a training text that near-duplicates
    # one of its texts (a common query, a real store's name) is dropped, as for dev and test.
    # The independent evaluation set and the texts written apart to judge data changes are kept out the same way.
    held_out = guard_keys(suite_texts(SUITE) + evaluation_texts(INDEPENDENT) + evaluation_texts(WRITTEN_APART))
    unseen = [r for r in train if not split_keys(r["text"]) & held_out]
    dropped = len(train) - len(unseen)
    print(f"dropped {dropped} training texts near-duplicating suite, independent-set or written-apart texts")
    train = unseen
    # Texts added after the split (train_only, long receipts, snippets) may repeat a training text: one copy each.
    unique = dedupe(train)
    print(f"dropped {len(train) - len(unique)} training texts that repeat an earlier one")
    train = unique

    OUT.mkdir(parents=True, exist_ok=True)
    for name, split in (("train", train), ("dev", dev), ("test", test)):
        write_jsonl(OUT / f"{name}.jsonl", split)
        counts = Counter((k, v) for r in split for k, v in ordered(r).items() if k != "text")
        print(f"{name}: {len(split)} records; " + ", ".join(f"{k}={v}:{n}" for (k, v), n in sorted(counts.items())))


if __name__ == "__main__":
    main()
