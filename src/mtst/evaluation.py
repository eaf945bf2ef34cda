"""Scoring a model on labelled records: per-task accuracy, macro-F1 and confusion matrix."""

from collections.abc import Sequence

import numpy as np

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
    labelled = [s.name for s in specs if any(s.name in r.labels for r in records)]
    outputs = model.run([r.text for r in records], tasks=labelled, batch_size=batch_size)
    return score(outputs.probabilities, label_matrix(records, specs), specs)


def summary(metrics: dict) -> dict:
    """The compact form (`mtst evaluate --json`): accuracy, macro-F1 and n per task."""
    return {
        "tasks": {
            name: {"accuracy": m["accuracy"], "macro_f1": m["macro_f1"], "n": m["n"]}
            for name, m in metrics["tasks"].items()
        }
    }
