"""Scoring a model on labelled records: per-task accuracy, macro-F1, confusion matrix, calibration, abstention.

Accuracy and macro-F1 are over every labelled record, from the argmax: they measure the head itself, whatever
its floor or applies_when would make it answer.
"""

from collections.abc import Sequence

import numpy as np

from mtst.confidence import confidence_report, labelled
from mtst.data import Record, label_matrix
from mtst.metrics import task_metrics


def score(probabilities: dict[str, np.ndarray], gold: dict[str, np.ndarray], tasks) -> dict:
    """{"tasks": {task: metrics}} for every task that has labelled records."""
    result = {}
    for spec in tasks:
        if spec.name not in probabilities:
            continue
        m = task_metrics(gold[spec.name], probabilities[spec.name].argmax(axis=1), spec.labels)
        if m is not None:
            result[spec.name] = m
    return {"tasks": result}


def evaluate(model, records: Sequence[Record], batch_size: int = 32) -> dict:
    """Run the model once over the records and score each task on the records labelled for it."""
    specs = list(model.tasks.values())
    names = [s.name for s in specs if any(s.name in r.labels for r in records)]
    outputs = model.run([r.text for r in records], tasks=names, batch_size=batch_size)
    gold = label_matrix(records, specs)
    result = score(outputs.probabilities, gold, specs)
    for name, m in result["tasks"].items():
        spec = model.tasks[name]
        m.update(confidence_report(*labelled(outputs.probabilities[name], gold[name]), spec.temperature, spec.floor))
    return result


def summary(metrics: dict, trust: bool = False) -> dict:
    """The compact form: accuracy, macro-F1 and n per task; with trust, calibration and abstention too.

    trust (`mtst evaluate --json`): temperature, ECE and Brier before/after, the floor with the coverage and
    accuracy above it, and the risk-coverage points.
    """
    tasks = {}
    for name, m in metrics["tasks"].items():
        tasks[name] = {"accuracy": m["accuracy"], "macro_f1": m["macro_f1"], "n": m["n"]}
        if trust and "calibration" in m:
            tasks[name]["calibration"] = {k: v for k, v in m["calibration"].items() if not k.startswith("reliability")}
            tasks[name]["abstention"] = m["abstention"]
            tasks[name]["risk_coverage"] = m["risk_coverage"]
    return {"tasks": tasks}
