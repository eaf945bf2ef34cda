"""The freezing study: what to train, on the shipped app dataset and on BANKING77.

Strategies (one row each, same seed; fresh heads unless stated):
- whole network frozen: an untrained model (mtst refuses `freeze: all` for training, since nothing would
  learn), evaluated as it is: chance level, shown as such;
- encoder frozen, heads only (`freeze: encoder`; its time includes embedding the texts once, estimated from a
  timed sample, since the embeddings come from the benchmarks' store);
- top 2 blocks + heads (`freeze: top`, top_layers 2);
- full fine-tuning (`freeze: none`);
- gradual top-down unfreezing (`freeze: gradual`: 2 blocks, then 2 more each epoch);
- adding a task: a model trained on the old task(s) with the encoder frozen gets a new head
  (`init_model` + `frozen_heads`): with the encoder frozen too the old tasks' test metrics must stay exactly
  the same (asserted), and with the encoder trainable (`freeze: none`) their drift is measured.

App dataset: configs/app.yaml's tasks (labels, head learning rates) and data (data/app/{train,dev,test}.jsonl);
the top-2 row uses configs/app.yaml's own strategy (top 2 blocks, encoder lr 1e-4). The added task is
query_intent, the old ones sentence_type and receipt_quality. BANKING77: train.csv (deduplicated; mtst's
seeded 15% dev split), official test.csv; the added task is SNIPS intent (100 training texts per intent,
valid as dev, official test).

Fine-tuning strategies of a dataset share one number of epochs, the most that fits the time budget (from a
timed probe). Tables: macro-F1 per task on the test split, training time and trainable parameters; figures:
learning curves from each run's history.jsonl. Results: benchmarks/results/freezing.json, freezing_*.png.

    .venv/bin/python benchmarks/bench_freezing.py [--quick] [--datasets app,banking77] [--budget-min 30]
"""

import sys
import time
from pathlib import Path

import numpy as np
import yaml
from common import (
    DATA_CACHE,
    ROOT,
    EmbeddingStore,
    LowerBlocks,
    banking77_labels,
    base_parser,
    dedupe,
    is_done,
    load_banking77,
    load_snips,
    markdown_table,
    model_probabilities,
    per_class_sample,
    plan_shared_epochs,
    probe_costs,
    pyplot,
    read_jsonl,
    save_figure,
    score_probabilities,
    setup,
    subsample,
    task_jsonl,
    task_rows,
    train_run,
    write_jsonl,
    write_results,
)

SEED = 13
B77_FROZEN_HEAD_LR = 1e-2  # bench_banking77.py (a): the head learning rate chosen on dev
GRADUAL = {"start": 2, "step": 2, "every": 1}


# --- the two datasets as config builders ------------------------------------------------------------------------


class AppData:
    """configs/app.yaml's tasks (labels, head learning rates) and data; the strategies' settings are below."""

    name = "app"
    title = "app dataset (data/app)"
    FROZEN_EPOCHS, FROZEN_PATIENCE = 30, 5  # heads only: cheap epochs, early stopping decides
    ENCODER_LR = {"top": 1e-4, "none": 5e-5, "gradual": 5e-5}  # top: configs/app.yaml's own setting
    FT_PATIENCE = 2

    def __init__(self, quick: bool) -> None:
        self.quick = quick
        self.app = yaml.safe_load((ROOT / "configs" / "app.yaml").read_text())
        paths = {k: (ROOT / "configs" / v).resolve() for k, v in self.app["data"].items()}
        if quick:
            for split, n in (("train", 500), ("dev", 150), ("test", 150)):
                rows = read_jsonl(paths[split])
                rows = [rows[i] for i in sorted(np.random.default_rng(SEED).choice(len(rows), n, replace=False))]
                paths[split] = write_jsonl(DATA_CACHE / f"app-{split}-quick.jsonl", rows)
        self.paths = {k: str(v) for k, v in paths.items()}
        self.tasks = [t["name"] for t in self.app["tasks"]]
        self.old, self.new = self.tasks[:2], self.tasks[2]
        self.test_rows = read_jsonl(self.paths["test"])
        self.sizes = {split: len(read_jsonl(p)) for split, p in self.paths.items()}

    def only(self, split: str, tasks: list[str]) -> str:
        """The split's records with only these tasks' labels (records with none of them left out)."""
        rows = [{"text": r["text"], **{t: r[t] for t in tasks if t in r}} for r in read_jsonl(self.paths[split])]
        name = f"app-{split}-{'-'.join(tasks)}{'-quick' if self.quick else ''}.jsonl"
        return str(write_jsonl(DATA_CACHE / name, [r for r in rows if len(r) > 1]))

    def strategy(self, kind: str, epochs: int, tasks: list[str] | None = None) -> dict:
        """kind: encoder, top, none or gradual; `epochs` applies to the fine-tuning kinds."""
        encoder = {"freeze": kind, "max_length": self.app["encoder"].get("max_length", 256)}
        if kind == "encoder":
            epochs, patience = (1 if self.quick else self.FROZEN_EPOCHS), self.FROZEN_PATIENCE
        else:
            patience = self.FT_PATIENCE
            encoder["lr"] = self.ENCODER_LR[kind]
            if kind == "top":
                encoder["top_layers"] = 2
            if kind == "gradual":
                encoder["gradual"] = GRADUAL
        data = dict(self.paths)
        task_cfgs = [dict(t) for t in self.app["tasks"]]
        if tasks is not None:
            task_cfgs = [t for t in task_cfgs if t["name"] in tasks]
            data = {split: self.only(split, tasks) for split in self.paths}
        return {
            "tasks": task_cfgs,
            "encoder": encoder,
            "data": data,
            "epochs": epochs,
            "patience": patience,
            "batch_size": 32,
            "seed": SEED,
        }

    def add_task(self, base_folder: Path, freeze: str, epochs: int) -> dict:
        """Train the new task's head only; dev and test keep every task, to watch the old ones."""
        rows = read_jsonl(self.paths["train"])
        new_train = [{"text": r["text"], self.new: r[self.new]} for r in rows if self.new in r]
        train = write_jsonl(DATA_CACHE / f"app-add-{self.new}-train{'-quick' if self.quick else ''}.jsonl", new_train)
        cfg = self.strategy(freeze, epochs)
        cfg["encoder"].update(init_model=str(base_folder), frozen_heads=list(self.old))
        cfg["data"] = {"train": str(train), "dev": self.paths["dev"], "test": self.paths["test"]}
        return cfg


# --- evaluation -----------------------------------------------------------------------------------------------


def app_test_scores(run) -> dict:
    """The trainer's own test metrics (data.test given): accuracy and macro-F1 in percent per task."""
    return {
        t: {"accuracy": 100 * m["accuracy"], "macro_f1": 100 * m["macro_f1"], "n": m["n"]}
        for t, m in run.metrics["test"]["tasks"].items()
    }


def old_task_metrics(folder: Path, test_path: str) -> dict:
    """mtst's own evaluation of a saved model on a test file (every metric, confusion matrix included)."""
    from mtst.data import load_records
    from mtst.evaluation import evaluate
    from mtst.model import MultiTaskModel

    model = MultiTaskModel.load(folder, device="cpu")
    return evaluate(model, load_records([test_path], list(model.tasks.values())))["tasks"]


def untrained_scores(store: EmbeddingStore, specs, texts_by_task: dict[str, tuple[list[str], list[str]]]) -> dict:
    """A model with untrained heads (whole network frozen): its test scores, i.e. chance level."""
    import torch

    from mtst.model import MultiTaskModel

    torch.manual_seed(SEED)
    model = MultiTaskModel(store.encoder, specs)
    out = {}
    with torch.inference_mode():
        for spec in specs:
            texts, gold = texts_by_task[spec.name]
            emb = torch.from_numpy(store.embed(texts))
            probs = torch.softmax(model.heads[spec.name](emb), -1).numpy()
            out[spec.name] = score_probabilities(probs, list(spec.labels), gold)
    return out


# --- the studies ---------------------------------------------------------------------------------------------------


def study_app(store: EmbeddingStore, args) -> dict:
    from mtst.config import parse_config

    data = AppData(args.quick)
    q = "-quick" if args.quick else ""
    specs = parse_config(data.strategy("encoder", 1)).specs()
    rows: dict[str, dict] = {}
    texts_by_task = {
        t: ([r["text"] for r in data.test_rows if t in r], [r[t] for r in data.test_rows if t in r]) for t in data.tasks
    }
    rows["whole network frozen (untrained heads: chance level)"] = {
        "scores": untrained_scores(store, specs, texts_by_task),
        "trainable": 0,
        "seconds": 0.0,
        "epochs": 0,
    }

    run = train_run(f"freeze-app-encoder{q}", data.strategy("encoder", 1), store)
    train_dev = [r["text"] for split in ("train", "dev") for r in read_jsonl(data.paths[split])]
    rows["encoder frozen, heads only"] = row(run, app_test_scores(run), embed=(store, train_dev))

    train_texts = [r["text"] for r in read_jsonl(data.paths["train"])]
    sample = train_texts[:: max(1, len(train_texts) // 600)]
    costs = {s: probe_costs(data.strategy(s, 1), sample) for s in ("top", "none", "gradual")}
    n_new = sum(1 for r in read_jsonl(data.paths["train"]) if data.new in r)
    full = (data.sizes["train"], data.sizes["dev"], data.sizes["test"])
    jobs = {s: {"costs": costs[s], "sizes": full} for s in ("top", "none", "gradual")}
    jobs["add-none"] = {"costs": costs["none"], "sizes": (n_new, data.sizes["dev"], data.sizes["test"])}
    epochs, skipped, _ = plan_shared_epochs(jobs, budget_share(args), args.max_epochs, args.quick)
    print(f"  app: fine-tuning strategies get {epochs} epoch(s); skipped: {sorted(skipped) or 'none'}", flush=True)
    names = {
        "top": "top 2 blocks + heads (configs/app.yaml's strategy)",
        "none": "full fine-tuning (freeze: none)",
        "gradual": "gradual unfreezing (2 blocks, +2 per epoch)",
    }
    for kind in ("top", "none", "gradual"):
        if kind in skipped:
            rows[names[kind]] = {"skipped": skipped[kind]}
            continue
        run = train_run(f"freeze-app-{kind}{q}", data.strategy(kind, epochs))
        rows[names[kind]] = row(run, app_test_scores(run))

    # adding query_intent to a model of the two old tasks
    base = train_run(f"freeze-app-base-old{q}", data.strategy("encoder", 1, tasks=data.old), store)
    base_scores = app_test_scores(base)
    rows[f"base for adding a task: {', '.join(data.old)} only (encoder frozen)"] = row(base, base_scores)
    added = train_run(f"freeze-app-add-frozen{q}", data.add_task(base.folder, "encoder", epochs), store)
    added_scores = app_test_scores(added)
    # both saved models, scored by mtst on the same old-task test records: the metrics must be identical
    old_test = old_task_metrics(base.folder, data.only("test", data.old))
    unchanged = {t: old_task_metrics(added.folder, data.only("test", data.old))[t] == old_test[t] for t in data.old}
    assert all(unchanged.values()), f"old tasks' test metrics changed with the encoder frozen: {unchanged}"
    assert_same_heads(base.folder, added.folder, data.old)
    rows[f"add {data.new}, old heads + encoder frozen"] = row(
        added, added_scores, drift=drift(added_scores, base_scores, data.old)
    )
    name = f"add {data.new}, old heads frozen, encoder trainable (none)"
    if "add-none" in skipped:
        rows[name] = {"skipped": skipped["add-none"]}
    else:
        moved = train_run(f"freeze-app-add-none{q}", data.add_task(base.folder, "none", epochs))
        moved_scores = app_test_scores(moved)
        rows[name] = row(moved, moved_scores, drift=drift(moved_scores, base_scores, data.old))
    return {
        "dataset": data.title,
        "tasks": data.tasks,
        "rows": rows,
        "epochs": epochs,
        "probe": costs,
        "sizes": data.sizes,
        "old_tasks_unchanged_with_frozen_encoder": unchanged,
        "test_split": "data/app/test.jsonl (never used for choices)",
    }


def study_banking77(store: EmbeddingStore, args) -> dict:
    from bench_banking77 import FROZEN_EPOCHS, FT_VARIANTS, fine_tune_config
    from bench_banking77 import config as b77_config

    from mtst.data import load_records, stratified_split
    from mtst.tasks import TaskSpec

    q = "-quick" if args.quick else ""
    task, new = "intent", "snips"
    train_texts, train_labels = dedupe(*load_banking77("train"))
    test_texts, test_labels = load_banking77("test")
    s_train, s_dev, s_test = dedupe(*load_snips("train")), dedupe(*load_snips("valid")), load_snips("test")
    if args.quick:
        train_texts, train_labels = subsample(train_texts, train_labels, 1500, SEED)
        test_texts, test_labels = subsample(test_texts, test_labels, 300, SEED)
        s_dev, s_test = subsample(*s_dev, 150, SEED), subsample(*s_test, 150, SEED)
    train_path = str(task_jsonl(f"banking77-train{q}", task, train_texts, train_labels))
    test_emb = store.embed(test_texts)
    lower = None
    rows: dict[str, dict] = {}
    spec = TaskSpec(task, tuple(banking77_labels()))
    snips_spec = TaskSpec(new, tuple(sorted(set(s_train[1]))))
    rows["whole network frozen (untrained heads: chance level)"] = {
        "scores": untrained_scores(store, [spec], {task: (test_texts, test_labels)}),
        "trainable": 0,
        "seconds": 0.0,
        "epochs": 0,
    }

    def test_scores(run, folder_kind: str) -> dict:
        nonlocal lower
        if folder_kind == "encoder":
            from common import head_probabilities

            probs, labels = head_probabilities(run.folder, task, test_emb)
            return {task: score_probabilities(probs, labels, test_labels)}
        if folder_kind == "top":
            if lower is None:
                lower = LowerBlocks(store, test_texts, 2)
            probs, labels, _ = lower.probabilities(run.folder, [task])
        else:
            probs, labels, _ = model_probabilities(run.folder, test_texts, [task])
        return {task: score_probabilities(probs[task], labels[task], test_labels)}

    frozen = train_run(
        f"b77-frozen-lr{B77_FROZEN_HEAD_LR:g}",
        b77_config(train_path, "encoder", B77_FROZEN_HEAD_LR, 1 if args.quick else FROZEN_EPOCHS, 8),
        store,
    )
    rows["encoder frozen, linear head only"] = row(frozen, test_scores(frozen, "encoder"), embed=(store, train_texts))

    n_dev = int(round(0.15 * len(train_texts)))
    full = (len(train_texts) - n_dev, n_dev, len(test_texts))
    sample = train_texts[::5]
    jobs = {}
    for _, freeze, enc_lr in FT_VARIANTS:  # the very runs of bench_banking77.py (b): stored ones are reused
        jobs[freeze] = {
            "costs": probe_costs(fine_tune_config(train_path, freeze, enc_lr, 1), sample),
            "sizes": full,
            "done": lambda e, f=freeze, lr=enc_lr: is_done(f"b77-ft-{f}", fine_tune_config(train_path, f, lr, e)),
        }
    jobs["gradual"] = {"costs": probe_costs(gradual_config(train_path, 3), sample), "sizes": full}
    snips_per_class = 100 if not args.quick else 20
    jobs["add-none"] = {
        "costs": jobs["none"]["costs"],
        "sizes": (snips_per_class * 7, n_dev + len(s_dev[0]), len(test_texts) + len(s_test[0])),
    }
    epochs, skipped, _ = plan_shared_epochs(jobs, budget_share(args), args.max_epochs, args.quick)
    costs = {j: v["costs"] for j, v in jobs.items()}
    print(
        f"  banking77: fine-tuning strategies get {epochs} epoch(s); skipped: {sorted(skipped) or 'none'}", flush=True
    )
    for name, freeze, enc_lr in FT_VARIANTS:
        if freeze in skipped:
            rows[name] = {"skipped": skipped[freeze]}
            continue
        run = train_run(f"b77-ft-{freeze}", fine_tune_config(train_path, freeze, enc_lr, epochs))
        rows[name] = row(run, test_scores(run, freeze))
    name = "gradual unfreezing (2 blocks, +2 per epoch)"
    if "gradual" in skipped:
        rows[name] = {"skipped": skipped["gradual"]}
    else:
        run = train_run(f"freeze-b77-gradual{q}", gradual_config(train_path, epochs))
        rows[name] = row(run, test_scores(run, "none"))

    # adding a SNIPS intent head to the frozen BANKING77 model
    records = load_records([train_path], [spec])
    _, b77_dev = stratified_split(records, 0.15, SEED)  # the base run's own dev split
    chosen = per_class_sample(*s_train, snips_per_class, SEED)
    add_train = write_jsonl(
        DATA_CACHE / f"b77-add-snips-train{q}.jsonl",
        task_rows(new, [s_train[0][i] for i in chosen], [s_train[1][i] for i in chosen]),
    )
    add_dev = write_jsonl(
        DATA_CACHE / f"b77-add-dev{q}.jsonl",
        [{"text": r.text, task: r.labels[task]} for r in b77_dev] + task_rows(new, *s_dev),
    )

    def add_config(freeze: str, n_epochs: int, patience: int) -> dict:
        cfg = b77_config(
            str(add_train),
            freeze,
            B77_FROZEN_HEAD_LR,
            n_epochs,
            patience,
            dev=str(add_dev),
            init_model=str(frozen.folder),
            encoder_lr=5e-5,
        )
        cfg["tasks"].append(
            {"name": new, "labels": list(snips_spec.labels), "lr": B77_FROZEN_HEAD_LR if freeze == "encoder" else 1e-2}
        )
        cfg["encoder"]["frozen_heads"] = [task]
        return cfg

    base_probs, base_labels, _ = model_probabilities(frozen.folder, test_texts, [task])
    base_scores = {task: score_probabilities(base_probs[task], base_labels[task], test_labels)}
    added = train_run(f"freeze-b77-add-frozen{q}", add_config("encoder", 1 if args.quick else FROZEN_EPOCHS, 8), store)
    probs, labels, _ = model_probabilities(added.folder, test_texts, [task])
    same = bool(np.array_equal(probs[task], base_probs[task]))  # same texts, same batches: bit for bit
    assert same, "the old task's test probabilities changed although the encoder and its head were frozen"
    assert_same_heads(frozen.folder, added.folder, [task])
    new_probs, new_labels, _ = model_probabilities(added.folder, s_test[0], [new])
    scores = {
        task: score_probabilities(probs[task], labels[task], test_labels),
        new: score_probabilities(new_probs[new], new_labels[new], s_test[1]),
    }
    rows["base for adding a task: the encoder-frozen model above"] = row(frozen, base_scores)
    rows[f"add {new} (100 per intent), old head + encoder frozen"] = row(
        added, scores, drift=drift(scores, base_scores, [task])
    )
    name = f"add {new} (100 per intent), old head frozen, encoder trainable (none)"
    if "add-none" in skipped:
        rows[name] = {"skipped": skipped["add-none"]}
    else:
        moved = train_run(f"freeze-b77-add-none{q}", add_config("none", epochs, 2))
        probs, labels, _ = model_probabilities(moved.folder, test_texts, [task])
        new_probs, new_labels, _ = model_probabilities(moved.folder, s_test[0], [new])
        scores = {
            task: score_probabilities(probs[task], labels[task], test_labels),
            new: score_probabilities(new_probs[new], new_labels[new], s_test[1]),
        }
        rows[name] = row(moved, scores, drift=drift(scores, base_scores, [task]))
    return {
        "dataset": "BANKING77 (+ SNIPS as the added task)",
        "tasks": [task, new],
        "rows": rows,
        "epochs": epochs,
        "probe": costs,
        "old_task_unchanged_with_frozen_encoder": same,
        "test_split": "BANKING77 official test.csv; SNIPS official test",
    }


def budget_share(args) -> float:
    """Seconds of fine-tuning for one dataset: the budget, split evenly between the datasets run."""
    return args.budget_min * 60 / max(1, len(args.datasets))


def gradual_config(train_path: str, epochs: int) -> dict:
    from bench_banking77 import FT_HEAD_LR
    from bench_banking77 import config as b77_config

    cfg = b77_config(train_path, "gradual", FT_HEAD_LR, epochs, 2, encoder_lr=5e-5)
    cfg["encoder"]["gradual"] = GRADUAL
    return cfg


# --- helpers -------------------------------------------------------------------------------------------------------


def row(run, scores: dict, drift: dict | None = None, embed: tuple | None = None) -> dict:
    """A table row. `seconds` is the wall time of mtst's train(); for `freeze: encoder` rows, whose texts came
    from the embedding store, `embed` = (store, train and dev texts) adds the one-off embedding time, estimated
    from a timed sample, so every row counts every forward pass its training needs."""
    out = {
        "scores": scores,
        "trainable": run.trainable,
        "seconds": run.seconds,
        "epoch_seconds": run.epoch_seconds,
        "epochs": run.metrics["epochs_run"],
        "history": run.history,
        "folder": run.folder,
    }
    if embed is not None:
        store, texts = embed
        out["embedding_seconds_estimate"] = store.seconds_per_text(texts) * len(texts)
        out["seconds"] += out["embedding_seconds_estimate"]
    if drift is not None:
        out["old_task_drift"] = drift
    return out


def drift(scores: dict, base: dict, old: list[str]) -> dict:
    return {
        t: {
            "accuracy": scores[t]["accuracy"] - base[t]["accuracy"],
            "macro_f1": scores[t]["macro_f1"] - base[t]["macro_f1"],
        }
        for t in old
    }


def assert_same_heads(a: Path, b: Path, names: list[str]) -> None:
    import torch
    from safetensors.torch import load_file

    ha, hb = load_file(Path(a) / "heads.safetensors"), load_file(Path(b) / "heads.safetensors")
    for key, value in ha.items():
        if key.split(".")[0] in names:
            assert torch.equal(value, hb[key]), f"frozen head weight {key} changed"


def table(study: dict) -> str:
    tasks = study["tasks"]
    headers = (
        ["strategy"]
        + [f"{t} macro-F1" for t in tasks]
        + ["old-task drift (macro-F1)", "train s", "epochs", "trainable params"]
    )
    rows = []
    for name, r in study["rows"].items():
        if r.get("skipped"):
            rows.append([name] + ["-"] * len(tasks) + ["-", r["skipped"], "-", "-"])
            continue
        cells = [f"{r['scores'][t]['macro_f1']:.2f}" if t in r["scores"] else "-" for t in tasks]
        d = r.get("old_task_drift")
        d_text = ", ".join(f"{t} {v['macro_f1']:+.2f}" for t, v in d.items()) if d else "-"
        rows.append([name] + cells + [d_text, f"{r['seconds']:.0f}", r["epochs"], f"{r['trainable']:,}"])
    return markdown_table(headers, rows)


def plot_curves(study: dict, key: str, quick: bool) -> Path:
    plt = pyplot()
    tasks = study["tasks"]
    fig, axes = plt.subplots(1, len(tasks) + 1, figsize=(4.2 * (len(tasks) + 1), 4))
    for name, r in study["rows"].items():
        history = r.get("history")
        if not history or name.startswith("base for"):
            continue
        short = name.split(" (")[0].split(",")[0]
        if name.startswith("add "):
            short = "add task, encoder " + ("frozen" if "encoder frozen" in name else "trainable")
        for ax, t in zip(axes, tasks, strict=False):
            points = [
                (h["epoch"], 100 * h["tasks"][t]["macro_f1"])
                for h in history
                if t in h["tasks"] and "macro_f1" in h["tasks"][t]
            ]
            if points:
                ax.plot(*zip(*points, strict=True), marker="o", ms=3, label=short)
        losses = [
            (h["epoch"], float(np.mean([v["dev_loss"] for v in h["tasks"].values() if "dev_loss" in v])))
            for h in history
        ]
        axes[-1].plot(*zip(*losses, strict=True), marker="o", ms=3, label=short)
    for ax, t in zip(axes, tasks, strict=False):
        ax.set(title=f"{t}: dev macro-F1", xlabel="epoch", ylabel="macro-F1 (%)")
    axes[-1].set(title="mean dev loss", xlabel="epoch", ylabel="cross-entropy")
    axes[0].legend(fontsize=7)
    fig.suptitle(f"Learning curves (history.jsonl): {study['dataset']}")
    return save_figure(fig, f"freezing_{key}", quick, dpi=100)


def main() -> int:
    parser = base_parser(__doc__)
    parser.add_argument("--datasets", default="app,banking77")
    parser.add_argument(
        "--budget-min",
        type=float,
        default=40.0,
        help="time for the fine-tuning strategies, split evenly between the datasets",
    )
    parser.add_argument("--max-epochs", type=int, default=3)
    args = parser.parse_args()
    args.datasets = [d.strip() for d in args.datasets.split(",") if d.strip()]
    began = time.time()
    info = setup(args)
    store = EmbeddingStore()
    studies, tables, figures = {}, {}, {}
    for key in args.datasets:
        study = study_app(store, args) if key == "app" else study_banking77(store, args)
        studies[key] = study
        tables[f"Freezing study, {study['dataset']}: test macro-F1 (%)"] = table(study)
        figures[key] = plot_curves(study, key, args.quick)
    for study in studies.values():
        for r in study["rows"].values():
            r.pop("history", None)  # kept in each run's history.jsonl; the figures show them
    write_results("freezing", info, {"studies": studies, "figures": figures}, tables, began)
    return 0


if __name__ == "__main__":
    sys.exit(main())
