"""CLINC150 (data_full.json): in-scope intent accuracy and out-of-scope rejection with mtst.

The model is trained on the 150 in-scope intents of `train` (15,000 texts), with `val` (3,000) as mtst's
dev split for early stopping and learning-rate choice. Out-of-scope texts are rejected when the top
probability is below a threshold chosen on the validation split only (val + oos_val), by two criteria: the
mean of in-scope accuracy (rejections counting as errors) and out-of-scope recall ("balanced"), and 151-way
accuracy (out-of-scope as a class). On the test split (test + oos_test) the script reports, at each
threshold, in-scope accuracy and out-of-scope recall; and the plain 150-way in-scope accuracy without
rejection (comparable to BERT-large's 96.9) and the threshold-free AUROC of the top probability.

Models: frozen encoder + linear head (head learning rate chosen on val); then, if the time budget allows,
the top 2 blocks fine-tuned with the head (`freeze: top`, started from the frozen model).

    .venv/bin/python benchmarks/bench_clinc150.py [--quick] [--finetune-budget-min 0]
"""

import sys
import time

import numpy as np
from common import (
    EmbeddingStore,
    LowerBlocks,
    base_parser,
    head_probabilities,
    load_clinc150,
    markdown_table,
    plan_epochs,
    probe_costs,
    pyplot,
    save_figure,
    setup,
    subsample,
    task_jsonl,
    train_run,
    write_results,
)

TASK = "intent"
SEED = 13
HEAD_LRS = [1e-2, 3e-2]
PUBLISHED = {"BERT-large in-scope accuracy (Larson et al. 2019)": 96.9}
OOS = "oos"


def config(
    train: str, dev: str, labels: list[str], freeze: str, head_lr: float, epochs: int, patience: int, **encoder
) -> dict:
    return {
        "tasks": [{"name": TASK, "labels": labels, "lr": head_lr}],
        "encoder": {"freeze": freeze, "top_layers": 2, **encoder},
        "data": {"train": train, "dev": dev},
        "epochs": epochs,
        "patience": patience,
        "batch_size": 32,
        "seed": SEED,
    }


def rejection_scores(top_prob: np.ndarray, predicted: np.ndarray, gold: np.ndarray, threshold: float) -> dict:
    """In-scope accuracy (a rejected in-scope text counts as wrong) and out-of-scope recall at a threshold."""
    in_scope = gold != OOS
    accepted = top_prob >= threshold
    in_acc = float(np.mean((predicted[in_scope] == gold[in_scope]) & accepted[in_scope]))
    oos_recall = float(np.mean(~accepted[~in_scope]))
    correct = np.where(in_scope, (predicted == gold) & accepted, ~accepted)  # 151-way: rejecting OOS is right
    return {
        "threshold": float(threshold),
        "in_scope_accuracy": 100 * in_acc,
        "oos_recall": 100 * oos_recall,
        "balanced": 50 * (in_acc + oos_recall),
        "accuracy_151": 100 * float(np.mean(correct)),
        "in_scope_rejected": 100 * float(np.mean(~accepted[in_scope])),
    }


CRITERIA = {  # how the threshold is chosen on val + oos_val
    "balanced": "mean of in-scope accuracy and OOS recall",
    "accuracy_151": "151-way accuracy (OOS as a class; val is 97% in-scope)",
}


def choose_threshold(top_prob, predicted, gold, criterion: str) -> dict:
    candidates = np.unique(np.concatenate([[0.0], np.quantile(top_prob, np.linspace(0, 1, 401))]))
    return max((rejection_scores(top_prob, predicted, gold, t) for t in candidates), key=lambda s: s[criterion])


def evaluate(probs: dict[str, np.ndarray], labels: list[str], gold: dict[str, list[str]]) -> dict:
    """Threshold on val+oos_val, then the test numbers at it."""
    names = np.array(labels)
    out = {}
    for split in ("val", "test"):
        p = np.concatenate([probs[split], probs[f"oos_{split}"]])
        g = np.array(gold[split] + gold[f"oos_{split}"])
        out[split] = {"top": p.max(axis=1), "pred": names[p.argmax(axis=1)], "gold": g}
    t = out["test"]
    points = {}
    for criterion in CRITERIA:
        chosen = choose_threshold(out["val"]["top"], out["val"]["pred"], out["val"]["gold"], criterion)
        points[criterion] = {
            "val": chosen,
            "test": rejection_scores(t["top"], t["pred"], t["gold"], chosen["threshold"]),
        }
    in_scope = t["gold"] != OOS
    plain = 100 * float(np.mean(t["pred"][in_scope] == t["gold"][in_scope]))
    from sklearn.metrics import roc_auc_score

    auroc = 100 * float(roc_auc_score(~in_scope, -t["top"]))
    curve = [rejection_scores(t["top"], t["pred"], t["gold"], th) for th in np.linspace(0, 1, 101)]
    return {
        "operating_points": points,
        "test_in_scope_accuracy_no_rejection": plain,
        "test_oos_auroc": auroc,
        "test_curve": curve,
        "n_test_in_scope": int(in_scope.sum()),
        "n_test_oos": int((~in_scope).sum()),
    }


def main() -> int:
    parser = base_parser(__doc__)
    parser.add_argument(
        "--finetune-budget-min",
        type=float,
        default=0.0,
        help="time for the top-2 fine-tuning run (0: frozen encoder only)",
    )
    parser.add_argument("--max-epochs", type=int, default=3)
    args = parser.parse_args()
    began = time.time()
    info = setup(args)
    splits = {s: load_clinc150(s) for s in ("train", "val", "test", "oos_val", "oos_test")}
    if args.quick:
        splits = {s: subsample(*pairs, 1500 if s == "train" else 200, SEED) for s, pairs in splits.items()}
    labels = sorted(set(splits["train"][1]))
    tag = "-quick" if args.quick else ""
    train_path = str(task_jsonl(f"clinc150-train{tag}", TASK, *splits["train"]))
    val_path = str(task_jsonl(f"clinc150-val{tag}", TASK, *splits["val"]))
    gold = {s: list(pairs[1]) for s, pairs in splits.items()}
    store = EmbeddingStore()
    emb = {s: store.embed(splits[s][0]) for s in ("val", "test", "oos_val", "oos_test")}

    results, rows = {}, []
    grid = []
    for lr in HEAD_LRS[:1] if args.quick else HEAD_LRS:
        run = train_run(
            f"clinc-frozen-lr{lr:g}",
            config(train_path, val_path, labels, "encoder", lr, 1 if args.quick else 60, 8),
            store,
        )
        grid.append((run.dev(TASK), lr, run))
    dev_acc, lr, run = max(grid, key=lambda g: g[0])
    probs = {s: head_probabilities(run.folder, TASK, emb[s])[0] for s in emb}
    results["frozen encoder + linear head"] = {
        "head_lr": lr,
        "head_lr_grid": {g[1]: 100 * g[0] for g in grid},
        "dev_accuracy": 100 * dev_acc,
        "epochs_run": run.metrics["epochs_run"],
        "train_seconds": run.seconds,
        "trainable": run.trainable,
        **evaluate(probs, labels, gold),
        "folder": run.folder,
    }

    name = "top 2 blocks + head (freeze: top)"
    budget = args.finetune_budget_min * 60
    if budget > 0 or args.quick:
        init = str(run.folder)
        cfg = config(train_path, val_path, labels, "top", lr / 10, 1, 2, init_model=init, lr=1e-4)
        costs = probe_costs(cfg, splits["train"][0][::5])
        n_eval = sum(len(splits[s][0]) for s in ("val", "test", "oos_val", "oos_test"))
        epochs, estimate = plan_epochs(
            costs,
            len(splits["train"][0]),
            len(splits["val"][0]),
            n_eval,
            max(budget, 1e9 if args.quick else 0),
            1 if args.quick else args.max_epochs,
        )
        if estimate > budget and not args.quick:
            results[name] = {"skipped": f"estimated {estimate / 60:.0f} min > budget {args.finetune_budget_min:g} min"}
        else:
            print(f"  {name}: {epochs} epoch(s), estimated {estimate / 60:.0f} min", flush=True)
            cfg = config(train_path, val_path, labels, "top", lr / 10, epochs, 2, init_model=init, lr=1e-4)
            top = train_run("clinc-top2", cfg)
            order = list(emb)
            texts = [t for s in order for t in splits[s][0]]
            p = LowerBlocks(store, texts, 2).probabilities(top.folder, [TASK])[0][TASK]
            bounds = np.cumsum([0] + [len(splits[s][0]) for s in order])
            probs = {s: p[bounds[i] : bounds[i + 1]] for i, s in enumerate(order)}
            results[name] = {
                "epochs": epochs,
                "epochs_run": top.metrics["epochs_run"],
                "dev_accuracy": 100 * top.dev(TASK),
                "train_seconds": top.seconds,
                "trainable": top.trainable,
                "estimate_seconds": estimate,
                **evaluate(probs, labels, gold),
                "folder": top.folder,
            }
    else:
        results[name] = {"skipped": "not run (--finetune-budget-min 0)"}

    for model, r in results.items():
        if r.get("skipped"):
            rows.append([f"{model}: {r['skipped']}"] + ["-"] * 5)
            continue
        rows.append(
            [
                model,
                r["trainable"],
                r["epochs_run"],
                r["dev_accuracy"],
                r["test_in_scope_accuracy_no_rejection"],
                r["test_oos_auroc"],
            ]
        )
    rows.append(["BERT-large fine-tuned (Larson et al. 2019), published", "340M", "-", "-", 96.9, "-"])
    table = markdown_table(
        [
            "model",
            "trainable params",
            "epochs",
            "val acc (150-way)",
            "test in-scope acc (no rejection)",
            "test OOS AUROC",
        ],
        rows,
    )
    op_rows = []
    for model, r in results.items():
        for criterion, p in r.get("operating_points", {}).items():
            op_rows.append(
                [
                    model,
                    CRITERIA[criterion],
                    f"{p['val']['threshold']:.3f}",
                    p["test"]["in_scope_accuracy"],
                    p["test"]["oos_recall"],
                    p["test"]["accuracy_151"],
                    p["test"]["in_scope_rejected"],
                ]
            )
    op_table = markdown_table(
        [
            "model",
            "threshold chosen on val + oos_val by",
            "threshold",
            "test in-scope acc",
            "test OOS recall",
            "test 151-way acc",
            "in-scope texts rejected",
        ],
        op_rows,
    )
    path = plot(results, args.quick)
    write_results(
        "clinc150",
        info,
        {
            "splits": {"train": "train", "dev/threshold": "val + oos_val", "test": "test + oos_test"},
            "n": {s: len(splits[s][0]) for s in splits},
            "published": PUBLISHED,
            "results": results,
            "figure": path,
            "embedding_seconds": store.seconds,
        },
        {
            "CLINC150 (data_full): in-scope accuracy on the test split, %": table,
            "CLINC150: out-of-scope rejection on test + oos_test at thresholds chosen on val + oos_val, %": op_table,
        },
        began,
    )
    return 0


def plot(results: dict, quick: bool):
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6, 4.5))
    for model, r in results.items():
        if r.get("skipped"):
            continue
        curve = r["test_curve"]
        (line,) = ax.plot([c["oos_recall"] for c in curve], [c["in_scope_accuracy"] for c in curve], label=model)
        for criterion, marker in (("balanced", "o"), ("accuracy_151", "s")):
            t = r["operating_points"][criterion]["test"]
            ax.scatter([t["oos_recall"]], [t["in_scope_accuracy"]], color=line.get_color(), marker=marker, zorder=3)
            ax.annotate(
                f"{t['threshold']:.2f} ({criterion})",
                (t["oos_recall"], t["in_scope_accuracy"]),
                textcoords="offset points",
                xytext=(-8, -12),
                fontsize=7,
                ha="right",
            )
    ax.set(
        xlabel="out-of-scope recall on test (%)",
        ylabel="in-scope accuracy on test (%)",
        title="CLINC150: rejecting out-of-scope text\nby a threshold on the top probability",
        ylim=(50, 100),
    )
    ax.legend(fontsize=8, loc="lower left")
    return save_figure(fig, "clinc150", quick)


if __name__ == "__main__":
    sys.exit(main())
