"""Learning curves: what a person would rather see than read in history.jsonl."""

from pathlib import Path


def save_learning_curves(history: list[dict], path: Path) -> None:
    """Per task: training loss and dev loss (left), dev macro-F1 (right), by epoch."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if not history:
        return
    tasks = list(history[0]["tasks"])
    fig, (loss_ax, f1_ax) = plt.subplots(1, 2, figsize=(11, 4))
    for name in tasks:
        epochs = [row["epoch"] for row in history if "macro_f1" in row["tasks"][name]]
        f1 = [row["tasks"][name]["macro_f1"] for row in history if "macro_f1" in row["tasks"][name]]
        dev_loss = [row["tasks"][name]["dev_loss"] for row in history if "dev_loss" in row["tasks"][name]]
        train_points = [
            (row["epoch"], row["tasks"][name]["train_loss"]) for row in history if "train_loss" in row["tasks"][name]
        ]
        (line,) = loss_ax.plot(epochs, dev_loss, label=f"{name} dev")
        if train_points:
            epochs_trained, losses = zip(*train_points, strict=True)
            loss_ax.plot(epochs_trained, losses, linestyle="--", color=line.get_color(), label=f"{name} train")
        f1_ax.plot(epochs, f1, marker="o", label=name)
    loss_ax.set(xlabel="epoch", ylabel="cross-entropy", title="loss")
    f1_ax.set(xlabel="epoch", ylabel="macro-F1", title="dev macro-F1")
    loss_ax.legend(fontsize=7)
    f1_ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def save_reliability_diagram(calibration: dict, task: str, path: Path) -> None:
    """Accuracy against confidence per bin, before (T = 1) and after the fitted temperature."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(9, 4), sharey=True)
    for ax, when in zip(axes, ("before", "after"), strict=True):
        bins = calibration[f"reliability_{when}"]
        ax.plot([0, 1], [0, 1], linestyle=":", color="grey", label="perfect")
        ax.bar(
            [b["bin"][0] for b in bins],
            [b["accuracy"] for b in bins],
            width=[b["bin"][1] - b["bin"][0] for b in bins],
            align="edge",
            alpha=0.6,
            edgecolor="white",
            label="accuracy per bin",
        )
        ax.plot([b["confidence"] for b in bins], [b["accuracy"] for b in bins], marker="o")
        t = 1.0 if when == "before" else calibration["temperature"]
        ax.set(
            xlim=(0, 1),
            ylim=(0, 1),
            xlabel="confidence",
            title=f"{when}: T={t:.2f}, ECE {calibration[f'ece_{when}']:.3f}, Brier {calibration[f'brier_{when}']:.3f}",
        )
        ax.title.set_fontsize(9)
    axes[0].set_ylabel("accuracy")
    axes[0].legend(fontsize=8)
    fig.suptitle(f"{task}: reliability")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def save_risk_coverage(points: list[dict], abstention: dict, task: str, path: Path) -> None:
    """Accuracy of the answered predictions against the share answered, as the floor rises; the chosen floor marked."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 4))
    answered = [p for p in points if p["accuracy"] is not None]
    ax.plot([p["coverage"] for p in answered], [p["accuracy"] for p in answered], marker=".")
    if abstention.get("floor") is not None and abstention.get("accuracy") is not None:
        ax.scatter([abstention["coverage"]], [abstention["accuracy"]], color="red", zorder=3)
        ax.annotate(f"floor {abstention['floor']:.2f}", (abstention["coverage"], abstention["accuracy"]), fontsize=8)
    ax.set(xlim=(0, 1.02), xlabel="coverage (share answered)", ylabel="accuracy of answered", title=task)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
