"""Abstention: a confidence floor per head, below which it answers None rather than a likely wrong label.

The floor is chosen on dev, on calibrated probabilities, as the lowest confidence at which the predictions
at or above it are expected to reach a target precision. Torch-free.
"""

import logging

import numpy as np

log = logging.getLogger("mtst")


def choose_floor(confidence: np.ndarray, precision: float) -> float | None:
    """The lowest threshold t at which the answers kept (confidence >= t) are expected to reach `precision`.

    `confidence` must be calibrated (mtst.calibration): then the mean confidence of the answers kept is their
    expected accuracy. That expectation, not a count of dev's hits, sets the floor: on a small dev set the count
    hangs on where a few errors happen to sit, and overshoots the target by leaving many right answers out
    (docs/training-considerations.md, "Choosing the floor").

    None when there is nothing to choose from; 1.0 (answer only when certain) when no threshold reaches it.
    """
    if len(confidence) == 0:
        return None
    conf = np.sort(np.asarray(confidence, dtype=np.float64))[::-1]
    expected = np.cumsum(conf) / np.arange(1, len(conf) + 1)  # expected accuracy of the k most confident
    # A threshold keeps every prediction with equal confidence, so only the last of each run of ties counts.
    last_of_tie = np.append(conf[1:] != conf[:-1], True)
    reached = np.flatnonzero(last_of_tie & (expected >= precision))
    if len(reached) == 0:
        return 1.0
    return float(conf[reached[-1]])


def risk_coverage(confidence: np.ndarray, correct: np.ndarray, points: int = 50) -> list[dict]:
    """The risk-coverage curve: for floors from low to high, the share answered and accuracy of those answered."""
    if len(confidence) == 0:
        return []
    thresholds = np.unique(np.quantile(confidence, np.linspace(0, 1, points)))
    return [selective(confidence, correct, float(t)) | {"floor": float(t)} for t in thresholds]


def selective(confidence: np.ndarray, correct: np.ndarray, floor: float | None) -> dict:
    """Coverage (share answered) and accuracy among the answered, under a floor (None: answer everything)."""
    answered = confidence >= floor if floor is not None else np.ones(len(confidence), bool)
    return {
        "coverage": float(answered.mean()) if len(answered) else 0.0,
        "accuracy": float(correct[answered].mean()) if answered.any() else None,
        "n_answered": int(answered.sum()),
    }
