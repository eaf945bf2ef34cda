"""BANKING77 (77 intents, 10,003 train / 3,080 test) with mtst's trainer.

(a) frozen encoder + linear head (`freeze: encoder`, cached fast path); head learning rate chosen on the
    dev split (a seeded stratified 15% of train, mtst's `dev_fraction`), never on test. Also scikit-learn
    logistic regression on the same frozen embeddings and the same train/dev split, for reference.
(c) few-shot: 8/16/32 training examples per class, 3 seeds; frozen head vs fine-tuned (the top 2 blocks
    and the head, started from the few-shot frozen model); dev = 4 other examples per class.
(b) fine-tuning on the full train split: `freeze: none` (all weights) and `freeze: top` (top 2 blocks), each
    with a fresh head, and `freeze: none` started from (a)'s trained head ("linear probe, then fine-tune",
    LP-FT: a trained head keeps the first steps from pulling the encoder towards a random classifier). The
    number of epochs is fixed up front from a timed probe and the time budget; the full fine-tuning figure
    set against the target is the variant with the higher dev accuracy.

Every number in the tables is test accuracy on the official 3,080-text test split. Results go to
benchmarks/results/banking77.json and banking77.png.

    .venv/bin/python benchmarks/bench_banking77.py [--quick] [--parts a,c,b] [--finetune-budget-min 45]
"""

import sys
import time

import numpy as np
from common import (
    DATA_CACHE,
    EmbeddingStore,
    LowerBlocks,
    banking77_labels,
    base_parser,
    dedupe,
    head_probabilities,
    is_done,
    load_banking77,
    markdown_table,
    mean_std,
    model_probabilities,
    per_class_sample,
    plan_shared_epochs,
    probe_costs,
    pyplot,
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

TASK = "intent"
SEED = 13
HEAD_LRS = [1e-2, 3e-2, 1e-1]
FROZEN_EPOCHS = 60  # with early stopping (patience 8) on dev macro-F1
LOGREG_C = [1.0, 10.0, 100.0]
SHOTS = [8, 16, 32]
FEWSHOT_SEEDS = [0, 1, 2]
FEWSHOT_DEV = 4  # dev examples per class in the few-shot runs
FEWSHOT_HEAD_LRS = [1e-2, 3e-2]  # chosen per run on its few-shot dev examples
FEWSHOT_MAX_EPOCHS = 6
PUBLISHED = {
    "MTEB logistic regression, frozen all-MiniLM-L6-v2": 80.04,
    "bert-base-uncased fully fine-tuned": 93.1,
    "SetFit (MPNet), 10 per class": 88.0,
}
TARGET_FROZEN, TARGET_FULL = 90.5, 93.0


def config(train: str, freeze: str, head_lr: float, epochs: int, patience: int, **extra) -> dict:
    encoder = {"freeze": freeze, "top_layers": 2, "lr": extra.pop("encoder_lr", 2e-5)}
    if "init_model" in extra:
        encoder["init_model"] = extra.pop("init_model")
    data = {"train": train}
    if "dev" in extra:
        data["dev"] = extra.pop("dev")
    return {
        "tasks": [{"name": TASK, "labels": banking77_labels(), "lr": head_lr}],
        "encoder": encoder,
        "data": data,
        "epochs": epochs,
        "patience": patience,
        "batch_size": 32,
        "seed": SEED,
        **extra,
    }


def main() -> int:
    parser = base_parser(__doc__)
    parser.add_argument(
        "--parts", default="a,c,b", help="which parts to run, in order (a: frozen, c: few-shot, b: full fine-tuning)"
    )
    parser.add_argument(
        "--finetune-budget-min",
        type=float,
        default=30.0,
        help="time for part (b): both runs get the most epochs that fit together; if one epoch "
        "does not fit, full fine-tuning is dropped first",
    )
    parser.add_argument("--fewshot-budget-min", type=float, default=20.0, help="time for part (c)'s fine-tuning")
    parser.add_argument("--max-epochs", type=int, default=3, help="most epochs of a fine-tuning run")
    args = parser.parse_args()
    began = time.time()
    info = setup(args)
    parts = [p.strip() for p in args.parts.split(",") if p.strip()]
    quick = args.quick

    train_texts, train_labels = dedupe(*load_banking77("train"))
    test_texts, test_labels = load_banking77("test")
    if quick:
        train_texts, train_labels = subsample(train_texts, train_labels, 1500, SEED)
        test_texts, test_labels = subsample(test_texts, test_labels, 300, SEED)
    train_path = str(task_jsonl(f"banking77-train{'-quick' if quick else ''}", TASK, train_texts, train_labels))
    store = EmbeddingStore()
    test_emb = store.embed(test_texts)
    tables, payload = (
        {},
        {
            "test_split": "official test.csv",
            "n_train": len(train_texts),
            "n_test": len(test_texts),
            "published": PUBLISHED,
        },
    )
    results: dict[str, dict] = {}
    lower: LowerBlocks | None = None

    def test_lower() -> LowerBlocks:
        nonlocal lower
        if lower is None:
            lower = LowerBlocks(store, test_texts, 2)
        return lower

    # (a) frozen encoder + linear head -------------------------------------------------------------------
    best_frozen = None
    if "a" in parts or "b" in parts:
        grid = []
        for lr in HEAD_LRS[:1] if quick else HEAD_LRS:
            cfg = config(train_path, "encoder", lr, 1 if quick else FROZEN_EPOCHS, 8)
            run = train_run(f"b77-frozen-lr{lr:g}", cfg, store)
            probs, labels = head_probabilities(run.folder, TASK, test_emb)
            grid.append(
                {
                    "head_lr": lr,
                    "dev_accuracy": 100 * run.dev(TASK),
                    "epochs_run": run.metrics["epochs_run"],
                    "train_seconds": run.seconds,
                    "test": score_probabilities(probs, labels, test_labels),
                    "folder": run.folder,
                    "trainable": run.trainable,
                }
            )
        best_frozen = max(grid, key=lambda g: g["dev_accuracy"])
        results["frozen"] = {"grid": grid, "chosen": best_frozen}
    if "a" in parts:
        results["logreg"] = logistic_regression(store, train_path, test_emb, test_labels, quick)
        rows = [
            [
                f"head lr {g['head_lr']:g}" + (" (chosen on dev)" if g is best_frozen else ""),
                g["epochs_run"],
                g["dev_accuracy"],
                g["test"]["accuracy"],
                g["test"]["macro_f1"],
                f"{g['train_seconds']:.0f}",
            ]
            for g in results["frozen"]["grid"]
        ]
        lr_res = results["logreg"]
        rows.append(
            [
                f"logistic regression C={lr_res['C']:g} (chosen on dev)",
                "-",
                lr_res["dev_accuracy"],
                lr_res["test"]["accuracy"],
                lr_res["test"]["macro_f1"],
                f"{lr_res['seconds']:.0f}",
            ]
        )
        tables["(a) BANKING77, frozen encoder: test accuracy (%)"] = markdown_table(
            ["model", "epochs", "dev acc", "test acc", "test macro-F1", "train s"], rows
        )
        payload["target_frozen"] = {
            "target": TARGET_FROZEN,
            "measured": best_frozen["test"]["accuracy"],
            "met": best_frozen["test"]["accuracy"] >= TARGET_FROZEN,
        }

    # (c) few-shot ------------------------------------------------------------------------------------------
    if "c" in parts:
        results["fewshot"] = few_shot(store, train_texts, train_labels, test_emb, test_labels, test_lower, args)
        rows = []
        for k, entry in results["fewshot"]["by_shots"].items():
            for kind in ("frozen", "finetuned"):
                accs = [r["test"]["accuracy"] for r in entry[kind] if r.get("test")]
                if accs:
                    m, s = mean_std(accs)
                    rows.append([k, kind_name(kind), len(accs), f"{m:.2f} ± {s:.2f}"])
                else:
                    rows.append([k, kind_name(kind), 0, "not run (time budget)"])
        rows.append([10, "SetFit (MPNet), published", "-", f"about {PUBLISHED['SetFit (MPNet), 10 per class']}"])
        tables["(c) BANKING77 few-shot: test accuracy (%), mean ± std over seeds"] = markdown_table(
            ["examples per class", "model", "seeds", "test accuracy"], rows
        )

    # (b) fine-tuning on the full train split ----------------------------------------------------------------
    if "b" in parts:
        results["finetune"] = fine_tune(
            store, train_path, train_texts, test_texts, test_labels, best_frozen, test_lower, args
        )
        rows = [run_row("frozen encoder + linear head (a)", best_frozen)] if best_frozen is not None else []
        for name, r in results["finetune"].items():
            rows.append([name, "-", "-", "-", "not run", "-", r["skipped"]] if r.get("skipped") else run_row(name, r))
        tables["(b) BANKING77, full train split: test accuracy (%)"] = markdown_table(
            ["model", "trainable params", "epochs", "dev acc", "test acc", "test macro-F1", "train s"], rows
        )
        full_runs = {name: r for name, r in results["finetune"].items() if r.get("freeze") == "none" and r.get("test")}
        if full_runs:
            chosen = max(full_runs, key=lambda name: full_runs[name]["dev_accuracy"])
            payload["target_full"] = {
                "target": TARGET_FULL,
                "variant": chosen,
                "chosen_on": "dev accuracy",
                "measured": full_runs[chosen]["test"]["accuracy"],
                "met": full_runs[chosen]["test"]["accuracy"] >= TARGET_FULL,
            }

    payload["results"] = results
    payload["embedding_seconds"] = store.seconds
    payload["figure"] = plot(results, quick)
    write_results("banking77", info, payload, tables, began)
    return 0


def run_row(name: str, r: dict) -> list:
    """A row of table (b): trainable params, epochs, dev acc, test acc, test macro-F1, train s."""
    test = r["test"]
    return [
        name,
        r["trainable"],
        r["epochs_run"],
        r["dev_accuracy"],
        test["accuracy"],
        test["macro_f1"],
        f"{r['train_seconds']:.0f}",
    ]


def kind_name(kind: str) -> str:
    return "frozen encoder + head" if kind == "frozen" else "fine-tuned (top 2 blocks + head)"


def logistic_regression(store, train_path, test_emb, test_labels, quick) -> dict:
    """scikit-learn logistic regression on the trainer's own train/dev split of the frozen embeddings."""
    from sklearn.linear_model import LogisticRegression

    from mtst.data import load_records, stratified_split
    from mtst.tasks import TaskSpec

    began = time.perf_counter()
    records = load_records([train_path], [TaskSpec(TASK, tuple(banking77_labels()))])
    train, dev = stratified_split(records, 0.15, SEED)
    x_train, y_train = store.embed([r.text for r in train]), [r.labels[TASK] for r in train]
    x_dev, y_dev = store.embed([r.text for r in dev]), [r.labels[TASK] for r in dev]
    best = None
    for c in LOGREG_C[:1] if quick else LOGREG_C:
        clf = LogisticRegression(C=c, max_iter=2000).fit(x_train, y_train)
        dev_acc = 100 * float(np.mean(clf.predict(x_dev) == np.array(y_dev)))
        if best is None or dev_acc > best[0]:
            best = (dev_acc, c, clf)
    dev_acc, c, clf = best
    probs = clf.predict_proba(test_emb)
    return {
        "C": c,
        "dev_accuracy": dev_acc,
        "test": score_probabilities(probs, list(clf.classes_), test_labels),
        "seconds": time.perf_counter() - began,
    }


def few_shot(store, texts, labels, test_emb, test_labels, test_lower, args) -> dict:
    quick = args.quick
    shots = SHOTS[:1] if quick else SHOTS
    seeds = FEWSHOT_SEEDS[:1] if quick else FEWSHOT_SEEDS
    by_shots: dict[int, dict] = {}
    plans = []
    for k in shots:
        by_shots[k] = {"frozen": [], "finetuned": []}
        for seed in seeds:
            chosen = per_class_sample(texts, labels, k, seed)
            dev = per_class_sample(texts, labels, FEWSHOT_DEV, seed + 1000, exclude=set(chosen))
            tag = f"k{k}-s{seed}{'-quick' if quick else ''}"
            train_path = write_jsonl(
                DATA_CACHE / f"b77-fewshot-{tag}-train.jsonl",
                task_rows(TASK, [texts[i] for i in chosen], [labels[i] for i in chosen]),
            )
            dev_path = write_jsonl(
                DATA_CACHE / f"b77-fewshot-{tag}-dev.jsonl",
                task_rows(TASK, [texts[i] for i in dev], [labels[i] for i in dev]),
            )
            # frozen: head learning rate chosen on the few-shot dev examples
            candidates = []
            for lr in [1e-2] if quick else FEWSHOT_HEAD_LRS:
                run = train_run(
                    f"b77-fs-frozen-{tag}-lr{lr:g}",
                    config(str(train_path), "encoder", lr, 1 if quick else 300, 20, dev=str(dev_path)),
                    store,
                )
                candidates.append((run.dev(TASK), lr, run))
            _, lr, run = max(candidates, key=lambda c: c[0])
            probs, names = head_probabilities(run.folder, TASK, test_emb)
            by_shots[k]["frozen"].append(
                {
                    "seed": seed,
                    "head_lr": lr,
                    "dev_accuracy": 100 * run.dev(TASK),
                    "test": score_probabilities(probs, names, test_labels),
                    "train_seconds": run.seconds,
                    "folder": run.folder,
                }
            )
            plans.append((k, seed, tag, train_path, dev_path, run.folder, len(chosen), len(dev)))

    # fine-tuned: top 2 blocks + head, from the few-shot frozen model; one epoch count for all runs that fit
    def ft_config(train_path, dev_path, init, epochs):
        return config(str(train_path), "top", 1e-3, epochs, 3, dev=str(dev_path), init_model=str(init), encoder_lr=1e-4)

    probe = probe_costs(ft_config(plans[0][3], plans[0][4], plans[0][5], 1), texts[::7])
    jobs = {}
    for k, seed, tag, train_path, dev_path, init, n_train, n_dev in plans:
        jobs[(k, seed)] = {
            "costs": probe,
            "sizes": (n_train, n_dev, 0),
            "done": lambda e, a=(train_path, dev_path, init), t=tag: is_done(f"b77-fs-top2-{t}", ft_config(*a, e)),
        }
    n_test = len(test_labels)  # each model's top blocks over the test set, below them one shared pass
    test_cost = probe["once_per_text"] * n_test + probe["eval_per_text"] * n_test * len(plans)
    epochs, dropped, estimate = plan_shared_epochs(
        jobs, args.fewshot_budget_min * 60 - test_cost, 1 if quick else FEWSHOT_MAX_EPOCHS, quick
    )
    print(
        f"  few-shot fine-tuning: {epochs} epoch(s) per run, estimated {(estimate + test_cost) / 60:.0f} min; "
        f"not run: {sorted(dropped) or 'none'}",
        flush=True,
    )
    for k, seed, tag, train_path, dev_path, init, _, _ in plans:
        if (k, seed) in dropped:
            continue
        run = train_run(f"b77-fs-top2-{tag}", ft_config(train_path, dev_path, init, epochs))
        probs, names, _ = test_lower().probabilities(run.folder, [TASK])
        by_shots[k]["finetuned"].append(
            {
                "seed": seed,
                "epochs": epochs,
                "dev_accuracy": 100 * run.dev(TASK),
                "test": score_probabilities(probs[TASK], names[TASK], test_labels),
                "train_seconds": run.seconds,
                "folder": run.folder,
            }
        )
    return {
        "by_shots": by_shots,
        "finetune_epochs": epochs,
        "estimate_seconds": estimate + test_cost,
        "finetune_not_run": {f"{k} per class, seed {s}": why for (k, s), why in dropped.items()},
        "probe": probe,
    }


FT_HEAD_LR = 1e-2
FT_VARIANTS = [  # name, freeze, encoder learning rate; a fresh head (bench_freezing.py reuses these runs)
    ("full fine-tuning (freeze: none)", "none", 5e-5),
    ("top 2 blocks (freeze: top)", "top", 1e-4),
]
LPFT_NAME = "full fine-tuning from (a)'s head (LP-FT)"
LPFT_HEAD_LR = 1e-3  # the head starts trained: a tenth of a fresh head's rate, as in the few-shot runs of (c)


def fine_tune_config(train_path: str, freeze: str, enc_lr: float, epochs: int) -> dict:
    """The fine-tuning runs of part (b), shared with bench_freezing.py (a fresh head, like every strategy there)."""
    return config(train_path, freeze, FT_HEAD_LR, epochs, 2, encoder_lr=enc_lr)


def lpft_config(train_path: str, init: str, epochs: int) -> dict:
    """Part (b)'s LP-FT run: every weight trained, starting from the frozen-encoder model of part (a)."""
    return config(train_path, "none", LPFT_HEAD_LR, epochs, 2, encoder_lr=5e-5, init_model=str(init))


def fine_tune(store, train_path, train_texts, test_texts, test_labels, best_frozen, test_lower, args) -> dict:
    """Both variants with one number of epochs, the most that fits the budget (from timed probes)."""
    out: dict[str, dict] = {}
    n_dev = int(round(0.15 * len(train_texts)))
    n_train = len(train_texts) - n_dev
    sample = train_texts[::5]
    variants = {}  # name -> (run name, freeze, encoder lr, config for a number of epochs)
    for name, freeze, enc_lr in FT_VARIANTS:
        make = lambda e, f=freeze, lr=enc_lr: fine_tune_config(train_path, f, lr, e)  # noqa: E731
        variants[name] = (f"b77-ft-{freeze}", freeze, enc_lr, make)
    if best_frozen is not None:
        init = best_frozen["folder"]
        variants[LPFT_NAME] = ("b77-lpft-none", "none", 5e-5, lambda e: lpft_config(train_path, init, e))
    jobs = {}
    for name, (run_name, _, _, make) in variants.items():
        jobs[name] = {
            "costs": probe_costs(make(1), sample),
            "sizes": (n_train, n_dev, len(test_texts)),
            "done": lambda e, r=run_name, m=make: is_done(r, m(e)),
        }
    epochs, dropped, estimate = plan_shared_epochs(jobs, args.finetune_budget_min * 60, args.max_epochs, args.quick)
    print(
        f"  fine-tuning: {epochs} epoch(s), estimated {estimate / 60:.0f} min; not run: {sorted(dropped) or 'none'}",
        flush=True,
    )
    for name, (run_name, freeze, enc_lr, make) in variants.items():
        if name in dropped:
            out[name] = {"skipped": dropped[name], "probe": jobs[name]["costs"]}
            continue
        run = train_run(run_name, make(epochs))
        if freeze == "top":
            probs, names, seconds = test_lower().probabilities(run.folder, [TASK])
        else:
            probs, names, seconds = model_probabilities(run.folder, test_texts, [TASK])
        out[name] = {
            "freeze": freeze,
            "encoder_lr": enc_lr,
            "head_lr": LPFT_HEAD_LR if name == LPFT_NAME else FT_HEAD_LR,
            "epochs": epochs,
            "epochs_run": run.metrics["epochs_run"],
            "dev_accuracy": 100 * run.dev(TASK),
            "test": score_probabilities(probs[TASK], names[TASK], test_labels),
            "train_seconds": run.seconds,
            "epoch_seconds": run.epoch_seconds,
            "trainable": run.trainable,
            "estimate_seconds": estimate,
            "probe": jobs[name]["costs"],
            "folder": run.folder,
            "history": run.history,
        }
    return out


def plot(results: dict, quick: bool):
    plt = pyplot()
    fig, (bars, curve) = plt.subplots(1, 2, figsize=(12, 4.5))
    names, values = [], []
    if "logreg" in results:
        names.append("logistic reg.\n(frozen)")
        values.append(results["logreg"]["test"]["accuracy"])
    if "frozen" in results:
        names.append("linear head\n(frozen)")
        values.append(results["frozen"]["chosen"]["test"]["accuracy"])
    for name, r in results.get("finetune", {}).items():
        if r.get("test"):
            names.append(name.split(" (")[0].replace("full fine-tuning", "full\nfine-tuning"))
            values.append(r["test"]["accuracy"])
    bars.bar(range(len(values)), values, color="tab:blue")
    for i, v in enumerate(values):
        bars.text(i, v + 0.3, f"{v:.1f}", ha="center", fontsize=8)
    bars.set_xticks(range(len(names)), names, fontsize=8)
    bars.axhline(PUBLISHED["bert-base-uncased fully fine-tuned"], ls="--", color="gray", lw=1)
    bars.axhline(PUBLISHED["MTEB logistic regression, frozen all-MiniLM-L6-v2"], ls=":", color="gray", lw=1)
    bars.set(
        ylim=(70, 100),
        ylabel="test accuracy (%)",
        title="BANKING77, full train split\n(dashed: BERT-base fine-tuned 93.1; dotted: MTEB LR 80.04)",
    )
    for kind, color in (("frozen", "tab:blue"), ("finetuned", "tab:orange")):
        xs, ms, ss = [], [], []
        for k, entry in results.get("fewshot", {}).get("by_shots", {}).items():
            accs = [r["test"]["accuracy"] for r in entry[kind]]
            if accs:
                m, s = mean_std(accs)
                xs.append(int(k))
                ms.append(m)
                ss.append(s)
        if xs:
            curve.errorbar(xs, ms, yerr=ss, marker="o", capsize=3, color=color, label=kind_name(kind))
    curve.scatter(
        [10],
        [PUBLISHED["SetFit (MPNet), 10 per class"]],
        marker="*",
        s=120,
        color="tab:green",
        label="SetFit (MPNet), published",
    )
    curve.set(
        xlabel="training examples per class",
        ylabel="test accuracy (%)",
        xticks=SHOTS,
        title="BANKING77 few-shot (mean ± std over 3 seeds)",
    )
    curve.legend(fontsize=8)
    return save_figure(fig, "banking77", quick)


if __name__ == "__main__":
    sys.exit(main())
