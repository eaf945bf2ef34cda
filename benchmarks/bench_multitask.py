"""One encoder, three heads, trained jointly, against three single-task models trained the same way.

Tasks (each record labelled for its own task only: partial labels):
- `banking77`: BANKING77 intent (77). Train: train.csv, deduplicated, split 85/15 (seeded, stratified) into
  train/dev. Test: the official test.csv.
- `smishing`: SMS ham / spam / smishing (Dataset_5971.csv, labels lower-cased; texts with conflicting labels
  dropped, duplicates kept once). No official split: our own seeded stratified split, 20% test, then 15%
  of the rest as dev.
- `snips`: SNIPS intent (7). Train: train (deduplicated), dev: valid, test: the official test.

All models use the frozen encoder (`freeze: encoder`, cached fast path), the same head learning rate,
epochs and patience, over 3 training seeds. Single-task models take batches of 32; the joint model batches
of 96, so each head sees about as many of its records per step (a joint batch of 32 holds about 11 per task:
one row shows what that costs). Multi-task loss weighting: equal weights, static weights proportional to the
inverse training-set size (normalised to mean 1), and learned uncertainty weights (Kendall et al. 2018).
The inference cost of one model with three heads vs three single-task models is measured on test texts.

    .venv/bin/python benchmarks/bench_multitask.py [--quick]
"""

import sys
import time

import numpy as np
from common import (
    DATA_CACHE,
    EmbeddingStore,
    banking77_labels,
    base_parser,
    dedupe,
    head_probabilities,
    load_banking77,
    load_smishing,
    load_snips,
    markdown_table,
    mean_std,
    model_probabilities,
    norm_key,
    pyplot,
    save_figure,
    score_probabilities,
    setup,
    stratified_split,
    subsample,
    train_run,
    write_jsonl,
    write_results,
)

SEED = 13  # the data splits
SEEDS = [13, 14, 15]  # training seeds (head initialisation, batch order)
HEAD_LR = 3e-2
EPOCHS, PATIENCE = 40, 5
TARGET_GAP = 1.0  # points of accuracy / macro-F1 a joint model may lose against single-task ones


def load_tasks(quick: bool) -> dict[str, dict]:
    """Per task: labels and (texts, labels) for train, dev and test."""
    b_train = dedupe(*load_banking77("train"))
    b_tr = stratified_split(*b_train, 0.15, SEED)
    s_all = load_smishing()
    s_rest_t, s_rest_l, s_test_t, s_test_l = stratified_split(*s_all, 0.2, SEED)
    s_tr = stratified_split(s_rest_t, s_rest_l, 0.15, SEED)
    n_train, n_dev = dedupe(*load_snips("train")), dedupe(*load_snips("valid"))
    tasks = {
        "banking77": {
            "labels": banking77_labels(),
            "train": (b_tr[0], b_tr[1]),
            "dev": (b_tr[2], b_tr[3]),
            "test": load_banking77("test"),
            "test_split": "official test.csv",
        },
        "smishing": {
            "labels": ["ham", "spam", "smishing"],
            "train": (s_tr[0], s_tr[1]),
            "dev": (s_tr[2], s_tr[3]),
            "test": (s_test_t, s_test_l),
            "test_split": "our seeded stratified 20% of Dataset_5971.csv (seed 13), never trained on",
        },
        "snips": {
            "labels": sorted(set(n_train[1])),
            "train": n_train,
            "dev": n_dev,
            "test": load_snips("test"),
            "test_split": "official test",
        },
    }
    if quick:
        for t in tasks.values():
            for split, n in (("train", 600), ("dev", 200), ("test", 200)):
                t[split] = subsample(*t[split], n, SEED)
    return tasks


def records(tasks: dict[str, dict], names: list[str], split: str) -> list[dict]:
    """One record per distinct text; a text found in two tasks carries both labels."""
    rows: dict[str, dict] = {}
    for name in names:
        for text, label in zip(*tasks[name][split], strict=True):
            row = rows.setdefault(norm_key(text), {"text": text})
            row.setdefault(name, label)
    return list(rows.values())


def config(tasks: dict, names: list[str], tag: str, weighting: str, batch_size: int, seed: int) -> dict:
    train = write_jsonl(DATA_CACHE / f"mt-{tag}-train.jsonl", records(tasks, names, "train"))
    dev = write_jsonl(DATA_CACHE / f"mt-{tag}-dev.jsonl", records(tasks, names, "dev"))
    sizes = {n: len(tasks[n]["train"][0]) for n in names}
    inverse = {n: 1 / sizes[n] for n in names}
    mean_inverse = float(np.mean(list(inverse.values())))
    weights = {n: (inverse[n] / mean_inverse if weighting == "inverse" else 1.0) for n in names}
    return {
        "tasks": [
            {"name": n, "labels": tasks[n]["labels"], "lr": HEAD_LR, "weight": round(weights[n], 6)} for n in names
        ],
        "encoder": {"freeze": "encoder"},
        "data": {"train": str(train), "dev": str(dev)},
        "loss_weighting": "uncertainty" if weighting == "uncertainty" else "static",
        "epochs": EPOCHS,
        "patience": PATIENCE,
        "batch_size": batch_size,
        "seed": seed,
    }


SINGLE = "single-task models (3 encoders)"
JOINT = [  # weighting, label, batch size, seeds ("all" or the first only)
    ("equal", "joint, equal weights", 96, "all"),
    ("inverse", "joint, inverse-size weights", 96, "all"),
    ("uncertainty", "joint, uncertainty weighting", 96, "all"),
    ("equal", "joint, equal weights, batch 32 (about 11 records per task per step)", 32, "first"),
]


def summarise(per_seed: list[dict], names: list[str], single: dict[int, dict] | None) -> dict:
    """Mean and std over seeds of each task's scores, and of the paired difference to the single-task runs."""
    out = {}
    for n in names:
        entry = {}
        for key in ("accuracy", "macro_f1"):
            entry[key], entry[f"{key}_std"] = mean_std([r["tasks"][n][key] for r in per_seed])
            if single is not None:
                diffs = [r["tasks"][n][key] - single[r["seed"]][n][key] for r in per_seed]
                entry[f"{key}_diff"], entry[f"{key}_diff_std"] = mean_std(diffs)
        out[n] = entry
    return out


def main() -> int:
    args = base_parser(__doc__).parse_args()
    began = time.time()
    info = setup(args)
    global EPOCHS
    if args.quick:
        EPOCHS = 1
    seeds = SEEDS[:1] if args.quick else SEEDS
    tasks = load_tasks(args.quick)
    names = list(tasks)
    q = "-quick" if args.quick else ""
    store = EmbeddingStore()
    test_emb = {n: store.embed(tasks[n]["test"][0]) for n in names}

    def scores(run, task_names):
        out = {}
        for n in task_names:
            probs, labels = head_probabilities(run.folder, n, test_emb[n])
            out[n] = score_probabilities(probs, labels, tasks[n]["test"][1])
        return out

    single_by_seed: dict[int, dict] = {}
    single_runs, joint_runs = {}, {}
    per_seed_single = []
    for seed in seeds:
        entry = {"seed": seed, "tasks": {}, "seconds": {}, "epochs_run": {}}
        for n in names:
            run = train_run(f"mt-single-{n}-s{seed}{q}", config(tasks, [n], f"single-{n}{q}", "equal", 32, seed), store)
            single_runs.setdefault(n, run)
            entry["tasks"][n] = scores(run, [n])[n]
            entry["seconds"][n], entry["epochs_run"][n] = run.seconds, run.metrics["epochs_run"]
        single_by_seed[seed] = entry["tasks"]
        per_seed_single.append(entry)
    models = {
        SINGLE: {"batch_size": 32, "per_seed": per_seed_single, "summary": summarise(per_seed_single, names, None)}
    }
    for weighting, label, batch, which in JOINT:
        per_seed = []
        for seed in seeds if which == "all" else seeds[:1]:
            cfg = config(tasks, names, f"joint{q}", weighting, batch, seed)
            run = train_run(f"mt-joint-{weighting}-b{batch}-s{seed}{q}", cfg, store)
            joint_runs.setdefault((weighting, batch), run)
            per_seed.append(
                {
                    "seed": seed,
                    "tasks": scores(run, names),
                    "seconds": run.seconds,
                    "epochs_run": run.metrics["epochs_run"],
                    "best_epoch": run.metrics["best_epoch"],
                }
            )
        models[label] = {
            "batch_size": batch,
            "weighting": weighting,
            "per_seed": per_seed,
            "static_weights": {t["name"]: t["weight"] for t in cfg["tasks"]},
            "summary": summarise(per_seed, names, single_by_seed),
        }

    # --- the table: each task's test accuracy and macro-F1, joint vs single ---------------------------------
    rows, within = [], {}
    for label, m in models.items():
        cells = []
        for n in names:
            e = m["summary"][n]
            text = f"{e['accuracy']:.2f} / {e['macro_f1']:.2f}"
            if label != SINGLE:
                text += f" ({e['accuracy_diff']:+.2f} / {e['macro_f1_diff']:+.2f})"
            cells.append(text)
        seeds_used = len(m["per_seed"])
        rows.append([label, m["batch_size"], seeds_used] + cells)
        if label != SINGLE:
            within[label] = all(
                min(m["summary"][n]["accuracy_diff"], m["summary"][n]["macro_f1_diff"]) >= -TARGET_GAP for n in names
            )
    table = markdown_table(
        ["model", "batch", "seeds"] + [f"{n}: test acc / macro-F1 (diff vs single)" for n in names], rows
    )
    std_rows = [
        [label]
        + [
            f"±{m['summary'][n]['accuracy_std']:.2f} / ±{m['summary'][n]['macro_f1_std']:.2f}"
            + (
                f" (diff ±{m['summary'][n]['accuracy_diff_std']:.2f} / ±{m['summary'][n]['macro_f1_diff_std']:.2f})"
                if label != SINGLE
                else ""
            )
            for n in names
        ]
        for label, m in models.items()
        if len(m["per_seed"]) > 1
    ]

    cost = inference_cost(tasks, names, single_runs, joint_runs[("equal", 96)], 64 if args.quick else 512)
    cost_table = markdown_table(
        ["what", "texts", "seconds (best of 3)", "texts / s"],
        [
            [
                "one model, three heads, one encoder pass",
                cost["texts"],
                cost["joint_seconds"],
                cost["texts"] / cost["joint_seconds"],
            ],
            [
                "three single-task models, three encoder passes",
                cost["texts"],
                cost["single_seconds"],
                cost["texts"] / cost["single_seconds"],
            ],
            ["cost ratio (three models / one)", "", f"{cost['ratio']:.2f}x", ""],
        ],
    )
    sizes = markdown_table(
        ["task", "train", "dev", "test", "test split"],
        [
            [n, len(tasks[n]["train"][0]), len(tasks[n]["dev"][0]), len(tasks[n]["test"][0]), tasks[n]["test_split"]]
            for n in names
        ],
    )
    path = plot(models, names, args.quick)
    write_results(
        "multitask",
        info,
        {
            "models": models,
            "within_target": within,
            "target_gap": TARGET_GAP,
            "seeds": seeds,
            "inference_cost": cost,
            "head_lr": HEAD_LR,
            "figure": path,
            "embedding_seconds": store.seconds,
        },
        {
            "Multi-task data (records; each labelled for its own task)": sizes,
            "Multi-task vs single-task, frozen encoder: test accuracy / macro-F1 (%), mean over seeds": table,
            "Spread over seeds (std of each score, and of the paired difference to single-task)": markdown_table(
                ["model"] + names, std_rows
            ),
            "Inference cost: one pass for three heads vs three encoders": cost_table,
        },
        began,
    )
    return 0


def inference_cost(tasks, names, single_runs, joint_run, n: int) -> dict:
    """Wall time of predicting every task for the same texts: one joint model vs the three single models."""
    texts = []
    for name in names:
        texts += tasks[name]["test"][0][: n // len(names) + 1]
    texts = texts[:n]
    joint, single = [], []
    for _ in range(3):
        joint.append(model_probabilities(joint_run.folder, texts, names)[2])
        single.append(sum(model_probabilities(single_runs[t].folder, texts, [t])[2] for t in names))
    return {
        "texts": len(texts),
        "joint_seconds": min(joint),
        "single_seconds": min(single),
        "ratio": min(single) / min(joint),
        "all_joint": joint,
        "all_single": single,
        "note": "model.run(texts) per model, batch 64, model loading excluded",
    }


def plot(models: dict, names: list[str], quick: bool):
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(10, 4.5))
    labels = list(models)
    width = 0.8 / len(labels)
    for i, label in enumerate(labels):
        summary = models[label]["summary"]
        ax.bar(
            np.arange(len(names)) + i * width,
            [summary[n]["macro_f1"] for n in names],
            width,
            yerr=[summary[n]["macro_f1_std"] for n in names],
            capsize=2,
            label=label,
        )
    ax.set_xticks(np.arange(len(names)) + width * (len(labels) - 1) / 2, names)
    ax.set(
        ylabel="test macro-F1 (%)",
        ylim=(75, 100),
        title="One frozen encoder with three heads vs three single-task models (mean ± std over seeds)",
    )
    ax.legend(fontsize=7, loc="lower right")
    return save_figure(fig, "multitask", quick)


if __name__ == "__main__":
    sys.exit(main())
