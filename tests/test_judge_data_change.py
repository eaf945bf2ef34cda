"""benchmarks/judge_data_change.py: the figures a data change is judged by, on a real (tiny) saved model."""

import importlib.util
import json
import sys
from pathlib import Path

import pytest
from sklearn.metrics import f1_score

ROOT = Path(__file__).resolve().parent.parent


def judge_module():
    sys.path.insert(0, str(ROOT / "benchmarks"))  # the script imports its neighbour common.py
    spec = importlib.util.spec_from_file_location("judge_data_change", ROOT / "benchmarks" / "judge_data_change.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_judged_texts_keep_receipts_out_of_the_message_figure_and_pool_both_written_apart_sets():
    texts = judge_module().judged_texts()
    task, messages = texts["independent_sentence_type"]
    assert task == "sentence_type" and messages and all("receipt_quality" not in r for r in messages)
    task, pooled = texts["written_apart_receipt_quality"]
    lines = sum(
        1 for folder in ("independent", "written_apart") for _ in open(ROOT / "data" / folder / "receipts.jsonl")
    )
    assert task == "receipt_quality" and len(pooled) == lines


def test_a_model_s_figures_are_its_top_label_macro_f1_and_its_suite_counts(tiny_model_dir):
    from mtst.backend import load_model
    from mtst.behaviour import load_suite, report, run_suite

    module = judge_module()
    texts = {name: (task, records[:40]) for name, (task, records) in module.judged_texts().items()}
    suite = load_suite(ROOT / "behaviour" / "app")
    judged = module.judge(tiny_model_dir, texts, suite)

    model = load_model(tiny_model_dir)
    for figure, (task, records) in texts.items():
        predictions = model.predict([r["text"] for r in records])
        top = [max(p[task].distribution, key=p[task].distribution.get) for p in predictions]
        gold = [r[task] for r in records]
        expected = f1_score(gold, top, labels=sorted(set(gold)), average="macro")
        assert judged["macro_f1"][figure] == pytest.approx(expected)
        assert sum(judged["misses"][figure].values()) == sum(g != t for g, t in zip(gold, top, strict=True))
    capabilities = report(run_suite(model, suite))["capabilities"]
    assert judged["capabilities_at_90"] == sum(c["pass_rate"] >= 0.9 for c in capabilities)
    assert set(judged["receipt_capabilities_passed"]) == {
        c["name"] for c in capabilities if c["task"] == "receipt_quality"
    }
    row = module.table({"tiny": judged}).splitlines()[2]
    assert row.startswith("| tiny | ") and row.count("|") == module.table({"tiny": judged}).splitlines()[0].count("|")
    json.dumps(judged)  # what the results file stores
