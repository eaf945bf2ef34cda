"""What a model run returns, shared by the torch and ONNX backends. Free of torch on purpose."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from mtst.tasks import TaskSpec


@dataclass
class Prediction:
    """One task's answer for one text."""

    label: str
    score: float
    distribution: dict[str, float]

    def to_dict(self) -> dict:
        return {"label": self.label, "score": self.score, "distribution": self.distribution}


@dataclass
class Outputs:
    """Everything one pass over a list of texts gives: embeddings and each task's probabilities."""

    embeddings: np.ndarray  # (n, dim)
    probabilities: dict[str, np.ndarray]  # task -> (n, n_labels)


def to_predictions(outputs: Outputs, tasks: Mapping[str, TaskSpec]) -> list[dict[str, Prediction]]:
    """Turn probability arrays into a label, score and distribution per text and task."""
    n = len(outputs.embeddings)
    result: list[dict[str, Prediction]] = [{} for _ in range(n)]
    for name, p in outputs.probabilities.items():
        labels = tasks[name].labels
        best = p.argmax(axis=1)
        for i in range(n):
            result[i][name] = Prediction(
                label=labels[best[i]],
                score=float(p[i, best[i]]),
                distribution={label: float(v) for label, v in zip(labels, p[i], strict=True)},
            )
    return result


def check_tasks(requested: Sequence[str] | None, known: Mapping[str, TaskSpec]) -> list[str]:
    """The requested task names (all when None), or an error naming the unknown ones."""
    from mtst.errors import MtstError

    if requested is None:
        return list(known)
    unknown = [t for t in requested if t not in known]
    if unknown:
        raise MtstError(f"unknown task(s) {', '.join(unknown)}; this model has: {', '.join(known)}")
    return list(requested)
