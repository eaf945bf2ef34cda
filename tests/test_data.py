import json
from collections import Counter

import pytest

from mtst.data import IGNORE_INDEX, check_files, label_matrix, load_records, stratified_split
from mtst.errors import MtstError
from mtst.tasks import DEFAULT_TASKS


def write(path, lines):
    path.write_text("\n".join(lines) + "\n")
    return path


def test_good_file_loads_with_partial_labels(tmp_path):
    f = write(
        tmp_path / "a.jsonl",
        [
            json.dumps({"text": "huggies size 4", "query_intent": "brand_search"}),
            json.dumps({"text": "KROGER\nTOTAL 3.00", "sentence_type": "receipt", "receipt_quality": "good_quality"}),
            "",
            json.dumps({"text": "Happy Friday!", "sentence_type": "generic_text"}),
        ],
    )
    records = load_records([f], DEFAULT_TASKS)
    assert [r.where for r in records] == [f"{f}:1", f"{f}:2", f"{f}:4"]
    labels = label_matrix(records, DEFAULT_TASKS)
    assert labels["query_intent"].tolist() == [0, IGNORE_INDEX, IGNORE_INDEX]
    assert labels["sentence_type"].tolist() == [IGNORE_INDEX, 3, 4]
    assert labels["receipt_quality"].tolist() == [IGNORE_INDEX, 0, IGNORE_INDEX]


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("{not json", "invalid JSON"),
        ('["a list"]', "JSON object"),
        (json.dumps({"txt": "typo"}), "'text' must be a string"),
        (json.dumps({"text": "   "}), "'text' is empty"),
        (json.dumps({"text": "x", "query_intent": "brand"}), "query_intent label 'brand' is not among"),
    ],
)
def test_each_problem_names_file_line_and_value(tmp_path, line, message):
    f = write(tmp_path / "bad.jsonl", [json.dumps({"text": "fine", "sentence_type": "offer"}), line])
    report = check_files([f], DEFAULT_TASKS)
    assert len(report.errors) == 1
    assert report.errors[0].startswith(f"{f}:2: ")
    assert message in report.errors[0]
    with pytest.raises(MtstError, match=f"^{f}:2: "):
        load_records([f], DEFAULT_TASKS)


def test_unused_keys_are_noted_not_refused(tmp_path):
    f = write(tmp_path / "a.jsonl", [json.dumps({"text": "x", "sentiment": "happy", "sentence_type": "offer"})])
    report = check_files([f], DEFAULT_TASKS)
    assert report.errors == []
    assert any("columns not used: sentiment" in note for note in report.notes)


def test_texts_shared_across_files_are_leakage_not_errors(tmp_path):
    a = write(tmp_path / "a.jsonl", [json.dumps({"text": "Cheap Diapers", "query_intent": "deal_search"})])
    b = write(tmp_path / "b.jsonl", [json.dumps({"text": "cheap  diapers", "query_intent": "deal_search"})])
    report = check_files([a, b], DEFAULT_TASKS)
    assert report.errors == []
    assert len(report.records) == 2
    assert report.notes == [
        f"leakage: 1 text(s) of {b} also appear in {a} (ignoring case and spacing); "
        f"scores on {b} will be optimistic, e.g. {b}:1 = {a}:1"
    ]


def test_missing_file_and_counts(tmp_path):
    f = write(tmp_path / "a.jsonl", [json.dumps({"text": f"q{i}", "query_intent": "promo_search"}) for i in range(3)])
    report = check_files([f, tmp_path / "none.jsonl"], DEFAULT_TASKS)
    assert report.errors == [f"{tmp_path / 'none.jsonl'}: no such file"]
    counts = report.counts(DEFAULT_TASKS)
    assert counts["query_intent"]["promo_search"] == 3
    assert sum(counts["sentence_type"].values()) == 0


def test_stratified_split_is_seeded_and_keeps_proportions(tmp_path):
    lines = [json.dumps({"text": f"text {i}", "sentence_type": "offer" if i % 4 else "receipt"}) for i in range(200)]
    records = load_records([write(tmp_path / "a.jsonl", lines)], DEFAULT_TASKS)
    train, dev = stratified_split(records, 0.2, seed=1)
    again_train, _ = stratified_split(records, 0.2, seed=1)
    assert [r.text for r in train] == [r.text for r in again_train]
    assert len(dev) == 40
    assert Counter(r.labels["sentence_type"] for r in dev) == {"offer": 30, "receipt": 10}
