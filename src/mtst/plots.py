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
