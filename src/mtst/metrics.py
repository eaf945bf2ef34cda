"""Per-task accuracy, macro-F1 and confusion matrices (scikit-learn), only over labelled records."""

from collections.abc import Sequence

import numpy as np
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score

from mtst.data import IGNORE_INDEX


def task_metrics(gold: np.ndarray, predicted: np.ndarray, labels: Sequence[str]) -> dict | None:
    """Accuracy, macro-F1 (over all the task's labels), support and confusion matrix; None if unlabelled."""
    mask = gold != IGNORE_INDEX
    if not mask.any():
        return None
    y, p = gold[mask], predicted[mask]
    every = list(range(len(labels)))
    return {
        "accuracy": float(accuracy_score(y, p)),
        "macro_f1": float(f1_score(y, p, labels=every, average="macro", zero_division=0)),
        "n": int(mask.sum()),
        "labels": list(labels),
        "confusion": confusion_matrix(y, p, labels=every).tolist(),
    }


def save_confusion_png(metrics: dict, title: str, path) -> None:
    """A confusion-matrix picture: rows are gold labels, columns predictions."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.metrics import ConfusionMatrixDisplay

    labels = metrics["labels"]
    fig, ax = plt.subplots(figsize=(1.2 * len(labels) + 3, 1.0 * len(labels) + 2.5))
    ConfusionMatrixDisplay(np.array(metrics["confusion"]), display_labels=labels).plot(
        ax=ax, colorbar=False, xticks_rotation=35
    )
    ax.set_title(title)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
