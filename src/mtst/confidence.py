"""How far to trust each head: fit its temperature and floor on dev, and report calibration and abstention.

Works with either backend (anything with .tasks and .run); torch-free.
"""

import logging
from collections.abc import Mapping, Sequence
from dataclasses import replace

import numpy as np

from mtst.abstention import choose_floor, risk_coverage, selective
from mtst.calibration import calibration_report, fit_temperature, logits_from_probabilities, scaled_softmax
from mtst.data import IGNORE_INDEX, Record, label_matrix

log = logging.getLogger("mtst")


def labelled(probabilities: np.ndarray, gold: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    mask = gold != IGNORE_INDEX
    return probabilities[mask], gold[mask]


def confidence_report(probabilities: np.ndarray, gold: np.ndarray, temperature: float, floor: float | None) -> dict:
    """One head's calibration (ECE, Brier before and after) and abstention (coverage, accuracy above the floor).

    probabilities and gold: the head's records labelled for it, probabilities at `temperature`.
    """
    confidence = probabilities.max(axis=1)
    correct = probabilities.argmax(axis=1) == gold
    return {
        "calibration": calibration_report(probabilities, gold, temperature),
        "abstention": {"floor": floor, **selective(confidence, correct, floor)},
        "risk_coverage": risk_coverage(confidence, correct),
    }


def fit_confidence(model, records: Sequence[Record], precision: Mapping[str, float | None], batch_size: int = 32):
    """Fit each head's temperature (and floor, where `precision` names a target) on dev; returns the dev reports.

    The model's task specs are replaced by ones carrying the fitted values, so model.save() keeps them. A head
    with no labelled dev record keeps temperature 1 and no floor.
    """
    specs = list(model.tasks.values())
    gold = label_matrix(records, specs)
    names = [s.name for s in specs if (gold[s.name] != IGNORE_INDEX).any()]
    outputs = model.run([r.text for r in records], tasks=names, batch_size=batch_size)
    reports = {}
    for name in names:
        spec = model.tasks[name]
        p, y = labelled(outputs.probabilities[name], gold[name])
        logits = spec.temperature * logits_from_probabilities(p)  # the raw logits, up to a constant per row
        temperature = fit_temperature(logits, y)
        calibrated = scaled_softmax(logits, temperature)
        floor = None
        if precision.get(name) is not None:
            floor = choose_floor(calibrated.max(axis=1), precision[name])
            if floor == 1.0:
                log.warning(
                    "task %s: no confidence floor reaches precision %.3f on dev; it will abstain unless certain",
                    name,
                    precision[name],
                )
        model.tasks[name] = replace(spec, temperature=temperature, floor=floor)
        reports[name] = confidence_report(calibrated, y, temperature, floor)
        if precision.get(name) is not None:
            reports[name]["abstention"]["target_precision"] = precision[name]
    for spec in specs:
        if spec.name not in names:
            log.warning("task %s has no labelled dev record: temperature stays 1 and it gets no floor", spec.name)
    return reports


def save_confidence_plots(reports: Mapping[str, dict], folder, prefix: str = "") -> list:
    """Per head: a reliability diagram (before/after calibration) and a risk-coverage curve, as PNGs."""
    from pathlib import Path

    from mtst.plots import save_reliability_diagram, save_risk_coverage

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, report in reports.items():
        path = folder / f"{prefix}reliability_{name}.png"
        save_reliability_diagram(report["calibration"], name, path)
        written.append(path)
        path = folder / f"{prefix}risk_coverage_{name}.png"
        save_risk_coverage(report["risk_coverage"], report["abstention"], name, path)
        written.append(path)
    return written
