"""STS-B: how well an embedding ranks sentence pairs by meaning (Spearman x100 of cosine vs gold scores).

Measured when a model is saved to serve its tuned embedding, so the model card and /info can say what that
embedding is worth beside the base one (all-MiniLM-L6-v2: 82.03 on the test split). The public dataset is read
in place from MTST_DATASETS/stsb, or from a `shared/datasets/stsb` folder above the project; without it the
score is "not measured".
"""

import logging
import os
from pathlib import Path

import numpy as np

log = logging.getLogger("mtst")

SPLIT = "test"


def stsb_folder() -> Path | None:
    """The STS-B folder (with original/sts-test.csv), or None where the dataset is absent."""
    named = os.environ.get("MTST_DATASETS")
    candidates = [Path(named) / "stsb"] if named else []
    for start in (Path.cwd(), Path(__file__).resolve().parent):
        candidates += [parent / "shared" / "datasets" / "stsb" for parent in (start, *start.parents)]
    return next((c for c in candidates if (c / "original" / f"sts-{SPLIT}.csv").is_file()), None)


def read_stsb(folder: Path, split: str = SPLIT) -> tuple[list[str], list[str], list[float]]:
    """Sentence pairs and gold scores; split on tabs by hand (quotes inside sentences break CSV readers)."""
    s1, s2, gold = [], [], []
    for line in (folder / "original" / f"sts-{split}.csv").read_text(encoding="utf-8").splitlines():
        fields = line.split("\t")
        if len(fields) >= 7:
            gold.append(float(fields[4]))
            s1.append(fields[5])
            s2.append(fields[6])
    return s1, s2, gold


def spearman_x100(a: np.ndarray, b: np.ndarray, gold: list[float]) -> float:
    from scipy.stats import spearmanr

    cosine = (a * b).sum(axis=1)  # unit-length embeddings
    return 100 * float(spearmanr(cosine, gold).statistic)


def measure_stsb(encoder, pairs: int | None = None) -> dict | None:
    """Spearman x100 of the encoder's served embedding on STS-B test (the first `pairs` pairs, default all)."""
    folder = stsb_folder()
    if folder is None:
        log.warning("STS-B not found (set MTST_DATASETS): the served embedding's STS-B score is not measured")
        return None
    s1, s2, gold = read_stsb(folder)
    if pairs is not None:
        s1, s2, gold = s1[:pairs], s2[:pairs], gold[:pairs]
    score = spearman_x100(encoder.encode(s1, batch_size=64), encoder.encode(s2, batch_size=64), gold)
    return {"split": SPLIT, "pairs": len(gold), "spearman_x100": round(score, 2)}
