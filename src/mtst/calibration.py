"""Calibrated confidence: one temperature per head, fitted on dev, and the scores that say how well it fits.

A head's probabilities are softmax(logits / T). T > 1 softens an over-confident head, T < 1 sharpens a timid
one; the argmax never changes, so accuracy and macro-F1 stay as they are. Torch-free: the torch and ONNX
backends both turn logits into probabilities with `scaled_softmax`.
"""

import numpy as np
from scipy.optimize import minimize_scalar
from scipy.special import log_softmax, softmax
from sklearn.metrics import brier_score_loss

ECE_BINS = 15
LOG_T_BOUNDS = (-4.0, 4.0)  # T between about 0.02 and 55: wider than any head needs
TINY = np.finfo(np.float32).tiny  # where float32 probabilities underflow


def scaled_softmax(logits: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    """Probabilities softmax(logits / temperature) per row, as float32."""
    return softmax(np.asarray(logits, dtype=np.float64) / temperature, axis=-1).astype(np.float32)


def logits_from_probabilities(probabilities: np.ndarray) -> np.ndarray:
    """Logits that give these probabilities back under softmax (up to a constant per row, which softmax ignores)."""
    return np.log(np.maximum(np.asarray(probabilities, dtype=np.float64), TINY))


def uncalibrated(probabilities: np.ndarray, temperature: float) -> np.ndarray:
    """The raw softmax (T = 1) of a head, from its probabilities at `temperature`: softmax(T * log p)."""
    return scaled_softmax(temperature * logits_from_probabilities(probabilities))


def nll(logits: np.ndarray, gold: np.ndarray, temperature: float) -> float:
    """Mean negative log-likelihood of the gold labels under softmax(logits / temperature)."""
    log_p = log_softmax(np.asarray(logits, dtype=np.float64) / temperature, axis=1)
    return float(-log_p[np.arange(len(gold)), gold].mean())


def fit_temperature(logits: np.ndarray, gold: np.ndarray) -> float:
    """The temperature that minimises the NLL of the gold labels (searched on log T, so T stays positive)."""
    if len(gold) == 0:
        return 1.0
    result = minimize_scalar(lambda log_t: nll(logits, gold, float(np.exp(log_t))), bounds=LOG_T_BOUNDS)
    return float(np.exp(result.x))


def expected_calibration_error(probabilities: np.ndarray, gold: np.ndarray, bins: int = ECE_BINS) -> float:
    """Top-label ECE: over equal-width confidence bins, the record-weighted gap between accuracy and confidence."""
    confidence = probabilities.max(axis=1)
    correct = probabilities.argmax(axis=1) == gold
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.searchsorted(edges, confidence, side="left") - 1, 0, bins - 1)  # bins are (lo, hi]
    ece = 0.0
    for b in range(bins):
        inside = which == b
        if inside.any():
            ece += inside.mean() * abs(correct[inside].mean() - confidence[inside].mean())
    return float(ece)


def brier_score(probabilities: np.ndarray, gold: np.ndarray) -> float:
    """Multi-class Brier score: mean over records of the squared distance to the one-hot gold label."""
    labels = list(range(probabilities.shape[1]))
    return float(brier_score_loss(gold, probabilities, labels=labels, scale_by_half=False))  # not halved for 2 labels


def reliability(probabilities: np.ndarray, gold: np.ndarray, bins: int = ECE_BINS) -> list[dict]:
    """The reliability diagram's points: per non-empty bin, its edges, mean confidence, accuracy and count."""
    confidence = probabilities.max(axis=1)
    correct = probabilities.argmax(axis=1) == gold
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.searchsorted(edges, confidence, side="left") - 1, 0, bins - 1)
    return [
        {
            "bin": [float(edges[b]), float(edges[b + 1])],
            "confidence": float(confidence[which == b].mean()),
            "accuracy": float(correct[which == b].mean()),
            "n": int((which == b).sum()),
        }
        for b in range(bins)
        if (which == b).any()
    ]


def calibration_report(probabilities: np.ndarray, gold: np.ndarray, temperature: float) -> dict:
    """NLL, ECE and Brier before (T = 1) and after calibration, from a head's probabilities at `temperature`."""
    before = uncalibrated(probabilities, temperature)
    return {
        "temperature": temperature,
        "nll_before": nll(logits_from_probabilities(before), gold, 1.0),
        "nll_after": nll(logits_from_probabilities(probabilities), gold, 1.0),
        "ece_before": expected_calibration_error(before, gold),
        "ece_after": expected_calibration_error(probabilities, gold),
        "brier_before": brier_score(before, gold),
        "brier_after": brier_score(probabilities, gold),
        "reliability_before": reliability(before, gold),
        "reliability_after": reliability(probabilities, gold),
    }
