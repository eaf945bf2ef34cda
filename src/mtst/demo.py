"""`mtst demo`: the tour a new user runs first."""

from pathlib import Path

import numpy as np

DEMO_TEXTS = [
    "Just scanned my Target receipt and got 350 points!",
    "Earn 2,000 bonus points when you buy two Pepsi 12-packs this week.",
    "My points never showed up for the Kroger receipt I scanned on Tuesday.",
    "Someone logged into my account and redeemed all my points for a gift card.",
    "huggies size 4 coupon",
]
DEFAULT_MODEL = Path("models/default")


def run_demo(model_dir: Path | None = None) -> None:
    from mtst.model import MultiTaskModel

    if model_dir is None and (DEFAULT_MODEL / "tasks.json").is_file():
        model_dir = DEFAULT_MODEL
    if model_dir is not None:
        model = MultiTaskModel.load(model_dir)
        print(f"model: {model_dir}")
    else:
        model = MultiTaskModel()
        print("model: all-MiniLM-L6-v2 with untrained heads (run `make demo` to train them)")
    outputs = model.run(DEMO_TEXTS)
    emb = outputs.embeddings

    print("\nTexts:")
    for i, text in enumerate(DEMO_TEXTS):
        print(f"  [{i}] {text}")
    first = emb[0]
    print(f"\nEmbedding of [0] (first 8 of {len(first)}): [{', '.join(f'{v:+.4f}' for v in first[:8])}, ...]")
    print(f"norm {np.linalg.norm(first):.4f}; all embeddings: shape {emb.shape}")

    print("\nCosine similarity:")
    sims = emb @ emb.T
    print("      " + "".join(f"   [{j}] " for j in range(len(DEMO_TEXTS))))
    for i, row in enumerate(sims):
        print(f"  [{i}] " + "".join(f"{v:7.3f}" for v in row))

    print("\nHeads (one encoder pass for all):")
    for i, result in enumerate(model.predictions(outputs)):
        parts = []
        for name, p in result.items():
            if not p.applies:
                parts.append(f"{name}=n/a")  # not the kind of text this head answers for
            elif p.abstained:
                parts.append(f"{name}=? ({p.score:.2f}, under its floor)")
            elif model.trained[name]:
                parts.append(f"{name}={p.label} ({p.score:.2f})")
            else:
                parts.append(f"{name}=untrained")
        print(f"  [{i}] " + "  ".join(parts))
    if not all(model.trained.values()):
        print("\nUntrained heads output random guesses, so none is shown as a prediction.")
