"""benchmarks/judge_data_change.py: the figures a data change is judged by, on a real (tiny) saved model."""

import importlib.util
import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from sklearn.metrics import f1_score

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "benchmarks" / "judge_data_change.py"


def judge_module():
    sys.path.insert(0, str(ROOT / "benchmarks"))  # the script imports its neighbour common.py
    spec = importlib.util.spec_from_file_location("judge_data_change", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def every_label(task: str, records: list[dict], per_label: int = 6) -> list[dict]:
    """A few records of each label, so that a macro-F1 over them is not a one-label degenerate case."""
    taken = Counter()
    out = []
    for r in records:
        if taken[r[task]] < per_label:
            taken[r[task]] += 1
            out.append(r)
    return out


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
    texts = {name: (task, every_label(task, records)) for name, (task, records) in module.judged_texts().items()}
    assert all(len({r[task] for r in records}) >= 3 for task, records in texts.values())
    suite = load_suite(ROOT / "behaviour" / "app")
    judged = module.judge(tiny_model_dir, texts, suite)

    model = load_model(tiny_model_dir)
    for figure, (task, records) in texts.items():
        predictions = model.predict([r["text"] for r in records])
        top = [max(p[task].distribution, key=p[task].distribution.get) for p in predictions]
        gold = [r[task] for r in records]
        expected = f1_score(gold, top, labels=sorted(set(gold)), average="macro")
        assert judged["macro_f1"][figure] == pytest.approx(expected)
        wrong = Counter(f"{g} -> {t}" for g, t in zip(gold, top, strict=True) if g != t)
        assert judged["misses"][figure] == dict(wrong)
    receipts = [c for c in report(run_suite(model, suite))["capabilities"] if c["task"] == "receipt_quality"]
    assert judged["receipt_capabilities_passed"] == {c["name"]: c["passed"] for c in receipts}
    assert judged["receipt_capability_cases"] == {c["name"]: c["cases"] for c in receipts}
    assert judged["receipt_capabilities_at_90"] == sum(c["passed"] >= 0.9 * c["cases"] for c in receipts)


def run_script(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(SCRIPT), "--quick", *args], capture_output=True, text=True, cwd=ROOT, timeout=600
    )


def test_the_script_writes_one_row_per_labelled_folder_and_refuses_a_label_twice(tiny_model_dir, tmp_path):
    odd = tmp_path / "lr=1e-4"  # a folder whose name holds "=": the label ends at the first one
    odd.symlink_to(tiny_model_dir, target_is_directory=True)
    done = run_script("--name", "pytest_check", f"tiny={tiny_model_dir}", f"odd={odd}")
    assert done.returncode == 0, done.stderr
    written = json.loads((ROOT / "benchmarks" / "cache" / "results-quick" / "decision_pytest_check.json").read_text())
    assert list(written["runs"]) == ["tiny", "odd"]
    assert written["runs"]["tiny"]["macro_f1"] == written["runs"]["odd"]["macro_f1"]  # the same model twice
    (table,) = written["tables"].values()
    assert [row.split(" | ")[0] for row in table.splitlines()[2:]] == ["| tiny", "| odd"]

    refused = run_script("--name", "pytest_check", f"tiny={tiny_model_dir}", f"tiny={odd}")
    assert refused.returncode == 2 and "share a label" in refused.stderr
    missing = run_script("--name", "pytest_check", f"tiny={tmp_path / 'nowhere'}")
    assert missing.returncode == 2 and "LABEL=FOLDER" in missing.stderr
