"""How much the default model moves when only its seed changes.

Trains configs/app.yaml as it is but for `seed` (the seed sets the heads' initial weights and the order
of the batches; the data and every other setting stay), and scores each model as bench_app.py does:
macro-F1 on dev, test, the hard test texts, the independent set and the written-apart set, the share wrong
at confidence >= 0.9, and the behavioural suite. The config's own seed is models/default when that folder
exists (`make demo` trains it).
Writes benchmarks/results/seeds.json.

    .venv/bin/python benchmarks/bench_seeds.py [--seeds 13,14,15,16]   (about 10 minutes a trained seed on 2 cores)
"""

import time

from bench_app import CONFIG, measure
from common import ROOT, base_parser, run_folder, setup, write_results

RECEIPT_CAPABILITIES = "receipt_"  # the behavioural capabilities of receipt_quality share this prefix


def model_for_seed(seed: int, quick: bool = False):
    """models/default for the config's own seed, else a run trained here (kept and reused by its config);
    --quick trains every seed for one epoch, a smoke test of the script."""
    from mtst.config import load_config
    from mtst.training import train

    config = load_config(CONFIG)
    default = ROOT / "models" / "default"
    if seed == config.seed and not quick and (default / "tasks.json").is_file():
        return default
    config = config.model_copy(update={"seed": seed} | ({"epochs": 1} if quick else {}))
    folder = run_folder(f"app-seed{seed}", config.model_dump(mode="json"))
    if not (folder / "tasks.json").is_file():
        train(config, folder, quiet=True)
    return folder


def table(runs: dict, tasks: list[str]) -> str:
    head = " / ".join(tasks)
    lines = [
        f"| seed | dev macro-F1 ({head}) | test macro-F1 | hard test macro-F1 | independent set macro-F1 "
        "| written-apart set macro-F1 | wrong at p ≥ 0.9 (test) | wrong at p ≥ 0.9 (independent) "
        "| wrong at p ≥ 0.9 (written-apart) | capabilities ≥ 90% | receipt capabilities: lowest / mean pass rate |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]

    def f1(run, split):
        return " / ".join(f"{run[f'{split}_macro_f1'][t]:.3f}" for t in tasks)

    def wrong(run, split):
        return " / ".join(f"{run[f'{split}_wrong_at_0.9'][t]:.1%}" for t in tasks)

    for seed, run in runs.items():
        b = run["behaviour"]
        receipts = [rate for name, rate in b["by_capability"].items() if name.startswith(RECEIPT_CAPABILITIES)]
        lines.append(
            f"| {seed} | {f1(run, 'dev')} | {f1(run, 'test')} | {f1(run, 'hard_test')} | {f1(run, 'independent')} "
            f"| {f1(run, 'written_apart')} | {wrong(run, 'test')} | {wrong(run, 'independent')} "
            f"| {wrong(run, 'written_apart')} "
            f"| {b['passing']} of {b['capabilities']} | {min(receipts):.3f} / {sum(receipts) / len(receipts):.3f} |"
        )
    return "\n".join(lines)


def spread(runs: dict, tasks: list[str]) -> str:
    """Lowest and highest over the seeds: how far one training can land from another."""

    def span(values) -> str:
        return f"{min(values):.3f} – {max(values):.3f}"

    splits = {"dev": "dev", "test": "test", "independent": "independent set", "written_apart": "written-apart set"}
    lines = [
        "| task | " + " | ".join(f"{name} macro-F1, lowest – highest" for name in splits.values()) + " |",
        "|---|" + "---|" * len(splits),
    ]
    for task in tasks:
        cells = [span([run[f"{split}_macro_f1"][task] for run in runs.values()]) for split in splits]
        lines.append(f"| `{task}` | " + " | ".join(cells) + " |")
    passing = [run["behaviour"]["passing"] for run in runs.values()]
    lines.append(
        f"\nCapabilities at ≥ 90% over {len(runs)} seeds: {min(passing)} to {max(passing)} of "
        f"{next(iter(runs.values()))['behaviour']['capabilities']}."
    )
    return "\n".join(lines)


def parse_seed_args(doc: str):
    """A study's command line with --seeds (comma-separated; default: the seeds this study trains)."""
    parser = base_parser(doc)
    parser.add_argument("--seeds", default="13,14,15,16", help="comma-separated seeds")
    args = parser.parse_args()
    args.seeds = [int(s) for s in args.seeds.split(",")]
    return args


def main() -> None:
    args = parse_seed_args(__doc__)
    info = setup(args)
    began = time.time()
    runs, tasks = {}, []
    for seed in args.seeds:
        folder = model_for_seed(seed, args.quick)
        runs[seed], tasks, _ = measure(folder, f"seed {seed}")
        runs[seed]["model"] = str(folder.relative_to(ROOT))
    tables = {
        "The default config under other seeds (same data, same settings)": table(runs, tasks),
        "Spread over the seeds": spread(runs, tasks),
    }
    write_results("seeds", info, {"tasks": tasks, "runs": runs}, tables, began)


if __name__ == "__main__":
    main()
