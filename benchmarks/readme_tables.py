"""The README's tables of measured figures, written from the result files in benchmarks/results/.

Every number in the README's "Results" section comes from a JSON that a study script wrote, so the
README cannot drift from the measurements: `collect_results.py` rewrites the section between its
markers, and tests/test_readme_figures.py fails when the README and the files disagree.

    .venv/bin/python benchmarks/readme_tables.py          # rewrite the README section
"""

import json
from pathlib import Path
from statistics import mean

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
README = ROOT / "README.md"
START = "<!-- results:start (written by benchmarks/readme_tables.py from benchmarks/results/) -->"
END = "<!-- results:end -->"

INFERENCE_ROWS = [  # (path in inference.json, how the README names it)
    ("sentence-transformers", "`SentenceTransformer.encode` (embeddings only)"),
    ("mtst fp32", "mtst torch fp32 (embeddings + every head; a batch per core side by side)"),
    ("mtst fp32 1 stream", "mtst torch fp32, one batch at a time (`streams=1`)"),
    ("onnx fp32", "mtst ONNX fp32"),
    ("onnx int8", "mtst ONNX int8"),
    ("onnx int8 streams", "mtst ONNX int8, a batch per core (`streams=None`)"),
]
PEER_ROWS = [  # (row in peers.json, how the README names it)
    ("sentence-transformers torch fp32", "`SentenceTransformer.encode` (embeddings only)"),
    ("ST OpenVINO default", "sentence-transformers' recipe on OpenVINO, its default precision"),
    ("ST OpenVINO static int8", "sentence-transformers' recipe on OpenVINO, NNCF static int8"),
    ("mtst torch auto, labels only", "mtst `predict` / `/v1/predict`: every head, `precision=auto`"),
    ("mtst torch auto", "mtst `run`: every head and the exact embedding, `precision=auto`"),
    ("mtst ONNX int8", "mtst ONNX int8 (dynamic)"),
]


def load(name: str) -> dict | None:
    path = RESULTS / f"{name}.json"
    return json.loads(path.read_text()) if path.is_file() else None


def triple(scores: dict, tasks: list[str]) -> str:
    return " / ".join(f"{scores[t]:.3f}" for t in tasks)


def app_rows(app: dict) -> list[str]:
    tasks = app["tasks"]
    names = " / ".join(tasks)
    default, heads = app["runs"]["default"], app["runs"].get("heads_only")
    ref = f"heads only on the frozen encoder: {triple(heads['test_macro_f1'], tasks)}" if heads else "-"
    rows = [
        f"| app test split, macro-F1 ({names}), {default['describe']} | "
        f"{triple(default['test_macro_f1'], tasks)} | {ref} |"
    ]
    if "hard_test_macro_f1" in default:
        ref = f"heads only: {triple(heads['hard_test_macro_f1'], tasks)}" if heads else "-"
        rows.append(
            f"| app hard test texts (written apart, {app['hard_test_records']} records), macro-F1 | "
            f"{triple(default['hard_test_macro_f1'], tasks)} | {ref} |"
        )
    if "independent_macro_f1" in default:
        ref = f"heads only: {triple(heads['independent_macro_f1'], tasks)}" if heads else "-"
        wrong = " / ".join(f"{default['independent_wrong_at_0.9'][t]:.1%}" for t in tasks)
        rows.append(
            f"| independent set (data/independent: {app['independent_records']} texts by writers who saw only "
            f"the labelling guide), macro-F1 | {triple(default['independent_macro_f1'], tasks)} | {ref}; "
            f"wrong at p ≥ 0.9: {wrong} |"
        )
    if "ece_test" in default:
        before = " / ".join(f"{default['ece_test'][t]['before']:.3f}" for t in tasks)
        after = " / ".join(f"{default['ece_test'][t]['after']:.3f}" for t in tasks)
        rows.append(f"| app test split, ECE after temperature scaling | {after} | before: {before} |")
    if "behaviour" in default:
        b = default["behaviour"]
        rows.append(
            f"| behavioural suite (`make behaviour`): capabilities at ≥ 90% pass | "
            f"{b['passing']} of {b['capabilities']} | lowest pass rate {b['lowest']:.0%}; "
            f"{b['passing_top_label']} with abstentions read as the top label |"
        )
    return rows


def results_table() -> list[str]:
    rows = ["| what | mtst | reference |", "|---|---|---|"]
    app = load("app")
    if app:
        rows += app_rows(app)
    stsb = load("stsb")
    if stsb:
        rows.append(
            f"| STS-B test, Spearman ×100 of cosine similarity | {stsb['spearman_x100']:.2f} | "
            f"{stsb['published']:.2f} published for all-MiniLM-L6-v2 |"
        )
    served = load("stsb_model")
    if served:
        rows.append(
            f"| STS-B test, Spearman ×100 of the embedding `{served['model']}` serves ({served['served_embedding']}) | "
            f"{served['spearman_x100']:.2f} | {served['published']:.2f} for all-MiniLM-L6-v2 itself |"
        )
    b77 = load("banking77")
    if b77:
        r = b77["results"]
        best = max(r["frozen"]["grid"], key=lambda g: g["dev_accuracy"])
        rows.append(
            f"| BANKING77 test accuracy, frozen encoder + linear head trained by mtst | "
            f"{best['test']['accuracy']:.2f}% | {r['logreg']['test']['accuracy']:.2f}% logistic regression "
            "on the same embeddings |"
        )
        full = b77["target_full"]
        run = r["finetune"][full["variant"]]
        rows.append(
            f"| BANKING77 test accuracy, {full['variant']}, {run['epochs_run']} epochs, "
            f"{run['train_seconds'] / 60:.0f} min on 2 cores | {full['measured']:.2f}% | "
            f"{b77['published']['bert-base-uncased fully fine-tuned']}% bert-base-uncased fine-tuned |"
        )
        shots = r["fewshot"]["by_shots"]
        means = [mean(run["test"]["accuracy"] for run in shots[k]["frozen"]) for k in sorted(shots, key=int)]
        seeds = len(next(iter(shots.values()))["frozen"])
        rows.append(
            f"| BANKING77 few-shot, {' / '.join(sorted(shots, key=int))} examples per class, frozen encoder "
            f"({seeds} seeds) | {' / '.join(f'{m:.1f}' for m in means)}% | about "
            f"{b77['published']['SetFit (MPNet), 10 per class']:.0f}% SetFit (MPNet, 10 per class) |"
        )
    clinc = load("clinc150")
    if clinc:
        frozen = clinc["results"]["frozen encoder + linear head"]
        rows.append(
            f"| CLINC150 in-scope test accuracy, frozen encoder + linear head | "
            f"{frozen['test_in_scope_accuracy_no_rejection']:.2f}% | 96.9% BERT-large fine-tuned "
            "(Larson et al. 2019) |"
        )
    cache = load("training_cache")
    if cache:
        same = "same dev accuracy" if cache["same_dev_accuracy"] else "different dev accuracy"
        rows.append(
            f"| training heads on cached embeddings vs running the frozen encoder, {cache['epochs']} epochs | "
            f"{cache['speedup_training']:.0f}× faster | {same} |"
        )
    return rows


def inference_table() -> list[str]:
    inf = load("inference")
    if not inf:
        return []
    paths = inf["paths"]
    fp32_f1 = paths["mtst fp32"].get("macro_f1", {})
    rows = [
        "| path | texts/s | × sentence-transformers | min cosine to fp32 | cold start |",
        "|---|---|---|---|---|",
    ]
    for key, name in INFERENCE_ROWS:
        if key not in paths:
            continue
        p = paths[key]
        if key == "onnx int8" and p.get("macro_f1") and fp32_f1:
            worst = min((p["macro_f1"][t] - fp32_f1[t]) * 100 for t in fp32_f1)
            name += f" (worst-task macro-F1 change {worst:+.2f} points)"
        rows.append(
            f"| {name} | {p['texts_per_s']:.0f} | {p['x_sentence_transformers']:.2f} | {p['min_cosine']:.6f} | "
            f"{p['cold_start_s']:.2f} s |"
        )
    return rows


def peers_table() -> list[str]:
    long, short = load("peers"), load("peers-short")
    if not long or not short:
        return []
    rows = [
        "| path | × sentence-transformers, 2,000 texts | × sentence-transformers, short texts | min cosine to fp32 |",
        "|---|---|---|---|",
    ]
    for key, name in PEER_ROWS:
        a, b = long["rows"].get(key), short["rows"].get(key)
        if a is None or b is None:
            continue
        cosine = "-" if a["min_cosine"] is None else f"{min(a['min_cosine'], b['min_cosine']):.5f}"
        rows.append(f"| {name} | {a['x_sentence_transformers']:.2f} | {b['x_sentence_transformers']:.2f} | {cosine} |")
    return rows


def section() -> str:
    lines = [START, "", *results_table(), ""]
    inference = inference_table()
    if inference:
        inf = load("inference")
        lines += [
            f"Inference at batch {inf['batch_size']} on {inf['texts']['n']:,} texts "
            f"({' + '.join(inf['texts']['sources'])}); the same machine otherwise idle (`make bench`; details "
            f"and targets in [performance](docs/performance.md)); medians of {inf['runs']} interleaved runs:",
            "",
            *inference,
            "",
        ]
    peers = peers_table()
    if peers:
        long = load("peers")
        lines += [
            f"Side by side with its peers on a {long['machine']['cores']}-core Xeon with AMX (`bench_peers.py`, "
            f"in `make bench`; batch {long.get('batch', 32)}, medians of {long['runs']} interleaved runs; "
            f"{long['source']}; and {load('peers-short')['source']}):",
            "",
            *peers,
            "",
        ]
    lines.append(END)
    return "\n".join(lines)


def readme_section(text: str) -> str:
    """The README's current results section, markers included ('' when the markers are missing)."""
    start, end = text.find(START), text.find(END)
    return text[start : end + len(END)] if start >= 0 and end > start else ""


def write_readme() -> None:
    text = README.read_text()
    current = readme_section(text)
    if not current:
        raise SystemExit(f"README.md has no {START!r} ... {END!r} markers")
    README.write_text(text.replace(current, section()))
    print("rewrote the results section of README.md")


if __name__ == "__main__":
    write_readme()
