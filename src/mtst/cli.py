"""The `mtst` command line: one thin command per job, each calling the library."""

import json
import logging
import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from mtst.backend import load_model
from mtst.errors import MtstError

app = typer.Typer(
    help="mtst: one sentence encoder, several text classifiers.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
data_app = typer.Typer(help="Check labelled data files.", no_args_is_help=True)
app.add_typer(data_app, name="data")

RUNTIMES = ("onnxruntime", "openvino")  # mtst export --runtime
PRECISION_HELP = (
    "torch backend: auto (bf16 where the hardware does it natively and a load-time check against fp32 passes, "
    "else fp32), fp32 (exact) or bf16."
)


def setup() -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s: %(message)s")
    logging.getLogger("mtst").setLevel(logging.INFO)
    # Quiet transformers through its environment variables rather than by importing it: the ONNX
    # backend must start without torch or transformers.
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")


def use_thread_policy() -> None:
    """Set torch's CPU threads once, for a command that runs torch (mtst.device.apply_thread_policy)."""
    from mtst.device import apply_thread_policy

    apply_thread_policy()


def gather_texts(texts: list[str] | None, input_file: Path | None, text_column: str = "text") -> list[str]:
    from mtst.prediction_io import read_texts

    if texts and input_file:
        raise MtstError("give texts as arguments or --input FILE, not both")
    if input_file:
        return list(read_texts(input_file, text_column))
    if not texts:
        raise MtstError("no texts given: pass them as arguments or with --input FILE")
    return list(texts)


@app.command()
def embed(
    texts: Annotated[list[str] | None, typer.Argument(help="Texts to embed.")] = None,
    input_file: Annotated[
        Path | None, typer.Option("--input", help="A .txt file (one text a line) or .jsonl with a 'text' field.")
    ] = None,
    output: Annotated[Path | None, typer.Option(help="Write embeddings to a .npy or .jsonl file.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON list of vectors.")] = False,
    model: Annotated[
        Path | None, typer.Option(help="Encoder or mtst model folder (default: all-MiniLM-L6-v2).")
    ] = None,
    batch_size: Annotated[int, typer.Option(help="Texts per encoder batch.")] = 32,
    precision: Annotated[
        str, typer.Option(help="fp32 (exact, the default here), bf16, or auto: bf16 where native and checked.")
    ] = "fp32",
) -> None:
    """Embed texts with the sentence encoder (an mtst model folder: the embedding that model serves)."""
    from mtst.embedding_io import embed_file, embed_texts

    use_thread_policy()
    if output is not None and input_file is not None and not texts:
        embed_file(input_file, output, model, batch_size, precision)
        return
    vectors = embed_texts(gather_texts(texts, input_file), model, batch_size, precision)
    if output is not None:
        from mtst.embedding_io import write_vectors

        write_vectors(vectors, output)
    elif as_json:
        print(json.dumps(vectors.tolist()))
    else:
        for row in vectors:
            print(" ".join(f"{v:.6f}" for v in row))


@app.command()
def demo(
    model: Annotated[
        Path | None, typer.Option(help="A trained mtst model folder (default: models/default if present).")
    ] = None,
) -> None:
    """A first tour: embeddings, similarities and every head's predictions for five app texts."""
    from mtst.demo import run_demo

    use_thread_policy()
    run_demo(model)


TEXT_COLUMN = typer.Option("--text-column", help="The column (JSON key) holding the text (default: text).")
LABEL_COLUMN = typer.Option(
    "--label-column", help="TASK=COLUMN: a task and the column holding its labels (COLUMN alone: the task's name)."
)


@app.command()
def train(
    config: Annotated[
        Path | None, typer.Option(help="The run's YAML config (default: configs/app.yaml unless --train is given).")
    ] = None,
    output: Annotated[Path, typer.Option(help="Run folder: the model, history, metrics and plots land here.")] = Path(
        "runs/app"
    ),
    train_file: Annotated[
        Path | None, typer.Option("--train", help="Training data: .csv, .tsv, .jsonl or .parquet.")
    ] = None,
    dev_file: Annotated[
        Path | None, typer.Option("--dev", help="Dev data for early stopping (default: 15% of --train).")
    ] = None,
    test_file: Annotated[Path | None, typer.Option("--test", help="Test data, scored at the end.")] = None,
    text_column: Annotated[str | None, TEXT_COLUMN] = None,
    label_column: Annotated[list[str] | None, LABEL_COLUMN] = None,
    conflicts: Annotated[
        str | None, typer.Option(help="One text with different labels: error (default), first, majority or drop.")
    ] = None,
    freeze: Annotated[str | None, typer.Option(help="encoder (heads only, the default), top, gradual or none.")] = None,
    epochs: Annotated[int | None, typer.Option(help="Epochs at most (default 10).")] = None,
    batch_size: Annotated[int | None, typer.Option(help="Records per batch (default 32).")] = None,
    head_lr: Annotated[float | None, typer.Option(help="Every head's learning rate (default 1e-3).")] = None,
    resume: Annotated[bool, typer.Option(help="Continue a killed run from its last checkpoint.")] = False,
    overwrite: Annotated[
        bool, typer.Option(help="Train again into a used run folder (its model is replaced when the run ends).")
    ] = False,
    quiet: Annotated[bool, typer.Option(help="No progress bars.")] = False,
    device: Annotated[str | None, typer.Option(help="cpu, cuda or cuda:N (default: CUDA when present).")] = None,
) -> None:
    """Train a multi-task model from a config, or from data files and columns alone; the run folder keeps
    the config it used (config.yaml). Several processes: torchrun --nproc_per_node=N -m mtst train."""
    from mtst.config import config_with_options, load_config
    from mtst.training import train as run_training

    if config is None and train_file is None:
        config = Path("configs/app.yaml")
    cfg = config_with_options(
        load_config(config) if config is not None else None,
        train=train_file,
        dev=dev_file,
        test=test_file,
        text_column=text_column,
        label_columns=label_column,
        conflicts=conflicts,
        freeze=freeze,
        epochs=epochs,
        batch_size=batch_size,
        head_lr=head_lr,
    )
    use_thread_policy()  # under torchrun: each rank its share of the cores
    if device is not None:
        cfg.device = device
    metrics = run_training(cfg, output, resume=resume, quiet=quiet, overwrite=overwrite)
    if os.environ.get("RANK", "0") != "0":
        return
    split = "test" if "test" in metrics else "dev"
    print(f"model saved to {output}; {split} metrics:")
    for name, m in metrics[split]["tasks"].items():
        print(f"  {name:<16} accuracy {m['accuracy']:.4f}  macro-F1 {m['macro_f1']:.4f}  n={m['n']}")
    for name in metrics.get("untrained_tasks", []):
        print(f"  {name:<16} no labelled training record: head left untrained")


@app.command()
def evaluate(
    model: Annotated[Path, typer.Option(help="A trained mtst model folder.")],
    data: Annotated[Path, typer.Option(help="A labelled file: .csv, .tsv, .jsonl or .parquet.")],
    text_column: Annotated[str | None, TEXT_COLUMN] = None,
    label_column: Annotated[list[str] | None, LABEL_COLUMN] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    plots: Annotated[
        Path | None, typer.Option(help="Write reliability diagrams and risk-coverage curves (PNG) into this folder.")
    ] = None,
    batch_size: int = 32,
) -> None:
    """Score a model on a labelled file: accuracy, macro-F1, confusion matrix, calibration and abstention per task.

    Columns default to the ones the model was trained on (its config.yaml). Accuracy and macro-F1 count every
    labelled record (the head's argmax); coverage and accuracy above the floor say what abstention leaves.
    """
    from mtst.confidence import save_confidence_plots
    from mtst.data import load_records, model_columns
    from mtst.evaluation import evaluate as run_evaluation
    from mtst.evaluation import summary

    use_thread_policy()
    loaded = load_model(model)
    tasks = list(loaded.tasks.values())
    columns = model_columns(model, tasks, text_column, label_column)
    source = dict.fromkeys(loaded.tasks, "the model's labels")
    records = load_records([data], tasks, columns, label_source=source)
    metrics = run_evaluation(loaded, records, batch_size)
    if plots is not None:
        save_confidence_plots(metrics["tasks"], plots)
    if as_json:
        print(json.dumps(summary(metrics, trust=True)))
        return
    for name, m in metrics["tasks"].items():
        print(f"{name}: accuracy {m['accuracy']:.4f}  macro-F1 {m['macro_f1']:.4f}  n={m['n']}")
        c, a = m["calibration"], m["abstention"]
        print(
            f"  T={c['temperature']:.3f}  ECE {c['ece_before']:.4f} -> {c['ece_after']:.4f}  "
            f"Brier {c['brier_before']:.4f} -> {c['brier_after']:.4f}"
        )
        if a["floor"] is not None:
            above = "n/a" if a["accuracy"] is None else f"{a['accuracy']:.4f}"
            print(f"  floor {a['floor']:.3f}: coverage {a['coverage']:.4f}, accuracy above it {above}")
        width = max(len(label) for label in m["labels"])
        print("  " + " " * width + "  " + " ".join(f"{label[:8]:>8}" for label in m["labels"]) + "   (predicted)")
        for label, row in zip(m["labels"], m["confusion"], strict=True):
            print(f"  {label:>{width}}  " + " ".join(f"{v:>8}" for v in row))


@app.command()
def predict(
    model: Annotated[Path, typer.Option(help="A trained mtst model folder.")],
    texts: Annotated[list[str] | None, typer.Argument(help="Texts to classify.")] = None,
    input_file: Annotated[
        Path | None,
        typer.Option("--input", help="A .txt, .csv, .tsv, .jsonl or .parquet file (ray: also a folder or glob)."),
    ] = None,
    output: Annotated[
        Path | None, typer.Option(help="Write here instead of printing: .jsonl, or .parquet (ray: a new folder).")
    ] = None,
    tasks: Annotated[str | None, typer.Option(help="Comma-separated tasks (default: all).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
    batch_size: int = 32,
    precision: Annotated[str, typer.Option(help=PRECISION_HELP)] = "auto",
    backend: Annotated[
        str, typer.Option(help="torch, or onnx / openvino for a folder written by `mtst export` (--runtime).")
    ] = "torch",
    resume: Annotated[bool, typer.Option(help="With --input/--output: continue where the output stops.")] = False,
    shard: Annotated[
        str | None, typer.Option(help="With --input/--output: only block i of n of the input, as i/n.")
    ] = None,
    chunk_size: Annotated[int, typer.Option(help="Texts read, predicted and written at a time.", min=1)] = 4096,
    streams: Annotated[
        int | None,
        typer.Option(
            help="Batches run at once on CPU (default: one per core for torch and openvino, 1 for onnx).", min=1
        ),
    ] = None,
    text_column: Annotated[
        str, typer.Option(help="The input's text column (.csv, .tsv, .jsonl and .parquet).")
    ] = "text",
    embeddings: Annotated[bool, typer.Option("--embeddings", help="With --output: add each text's embedding.")] = False,
    engine: Annotated[
        str, typer.Option(help="local (this process), or ray: a Ray cluster scores --input into the folder --output.")
    ] = "local",
    address: Annotated[
        str | None, typer.Option(help="--engine ray: the cluster to join (auto: the one `ray start` runs here).")
    ] = None,
    actors: Annotated[int, typer.Option(help="--engine ray: model copies scoring side by side.", min=1)] = 2,
    id_column: Annotated[
        str | None, typer.Option(help="--engine ray: an input column copied beside each text's predictions.")
    ] = None,
    output_format: Annotated[str, typer.Option(help="--engine ray: parquet or jsonl part files.")] = "parquet",
    given: Annotated[
        list[str] | None,
        typer.Option(help="A label you know, as task=label (e.g. text_kind=search_query), for every text."),
    ] = None,
) -> None:
    """Each text's label and probability for every task; files of any size stream, Parquet or JSONL.

    Printed: n/a where the head does not apply to the text, ? where it abstained (under its floor).

    --engine ray: `--input` is a folder, glob or file of .parquet or .jsonl, `--output` a new folder of part
    files (input order as far as Ray keeps it: join on --id-column), with every head's label and probabilities
    (`pip install mtst[ray]`).
    """
    from mtst.prediction_io import parse_shard, predict_stream, prediction_row
    from mtst.routing import check_given, parse_given

    task_list = [t.strip() for t in tasks.split(",") if t.strip()] if tasks else None
    if engine == "ray":
        if texts or input_file is None or output is None or resume or shard or given:
            raise MtstError("--engine ray needs --input and --output, and takes no texts, --resume, --shard or --given")
        from mtst.ray_predict import predict_ray

        folder = predict_ray(
            model,
            input_file,
            output,
            tasks=task_list,
            backend=backend,
            precision=precision,
            text_column=text_column,
            id_column=id_column,
            embeddings=embeddings,
            output_format=output_format,
            actors=actors,
            rows_per_batch=chunk_size,
            batch_size=batch_size,
            address=address,
        )
        print(f"predictions written to {folder}")
        return
    if engine != "local":
        raise MtstError(f"unknown engine {engine!r}; choose local or ray")
    shard_spec = parse_shard(shard)
    streaming = input_file is not None and output is not None and not texts
    if (resume or shard) and not streaming:
        raise MtstError("--resume and --shard need --input FILE and --output FILE")
    if embeddings and not streaming:
        raise MtstError("--embeddings needs --input FILE and --output FILE")
    known = parse_given(given or [])
    if backend == "torch":
        use_thread_policy()
    loaded = load_model(model, backend, precision, streams)
    names = loaded.check_tasks(task_list)
    check_given(known, 1, loaded.tasks)
    if streaming:
        predict_stream(
            loaded,
            input_file,
            output,
            names,
            batch_size,
            resume=resume,
            shard=shard_spec,
            chunk_size=chunk_size,
            text_column=text_column,
            embeddings=embeddings,
            given=known or None,
        )
        return
    items = gather_texts(texts, input_file, text_column)
    results = loaded.predict(items, names, batch_size, given=known or None)
    rows = [prediction_row(text, result) for text, result in zip(items, results, strict=True)]
    if output is not None:
        output.write_text("".join(json.dumps(r) + "\n" for r in rows))
    elif as_json:
        for row in rows:
            print(json.dumps(row))
    else:
        for row in rows:
            parts = [f"{n}={shown_label(row[n])}" for n in names]
            print(f"{row['text'][:60]!r}: " + "  ".join(parts))


def shown_label(answer: dict) -> str:
    """A prediction for people: label (score), n/a where the head does not apply, ? where it abstained."""
    if not answer["applies"]:
        return "n/a"
    if answer["given"]:
        return f"{answer['label']} (given)"
    if answer["abstained"]:
        return f"? ({answer['score']:.2f})"
    return f"{answer['label']} ({answer['score']:.2f})"


@app.command()
def serve(
    model: Annotated[Path, typer.Option(help="A trained mtst model folder (or an export, with --backend).")],
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    backend: Annotated[str, typer.Option(help="torch, onnx or openvino.")] = "torch",
    precision: Annotated[str, typer.Option(help=PRECISION_HELP)] = "auto",
    api_key: Annotated[
        str | None,
        typer.Option(envvar="MTST_API_KEY", help="Require 'Authorization: Bearer KEY' on every route but /health."),
    ] = None,
    max_batch_tokens: Annotated[int, typer.Option(help="Token budget of one merged encoder batch.")] = 16384,
    batch_wait_ms: Annotated[
        float, typer.Option(help="How long a request may wait for others to share its batch (0: no batching).")
    ] = 5.0,
    max_queue: Annotated[int, typer.Option(help="Texts waiting at most; beyond it the server answers 503.")] = 4096,
) -> None:
    """Serve embeddings and every head's predictions over HTTP."""
    from mtst.server import ServerSettings, run_server

    run_server(
        ServerSettings(
            model=model,
            host=host,
            port=port,
            backend=backend,
            precision=precision,
            api_key=api_key,
            max_batch_tokens=max_batch_tokens,
            batch_wait_ms=batch_wait_ms,
            max_queue=max_queue,
        )
    )


@app.command()
def export(
    model: Annotated[Path, typer.Option(help="A trained mtst model folder.")],
    output: Annotated[Path, typer.Option(help="Folder for the graph, tokenizer files and task specs.")],
    runtime: Annotated[
        str,
        typer.Option(
            help="onnxruntime: an ONNX graph fused for onnxruntime (--backend onnx); openvino: an OpenVINO model "
            "(--backend openvino; needs mtst's openvino extra)."
        ),
    ] = "onnxruntime",
    quantize: Annotated[
        str | None,
        typer.Option(
            help="int8 (onnxruntime): dynamic per-channel int8 weights; int8-static: activation ranges calibrated "
            "on --calibration (onnxruntime's quantize_static, or NNCF for openvino)."
        ),
    ] = None,
    calibration: Annotated[
        Path | None,
        typer.Option(help="int8-static: a .txt or .jsonl file of typical texts (up to 600 used; default: built-in)."),
    ] = None,
) -> None:
    """Export encoder, pooling, normalisation and every head as one graph (ONNX, or OpenVINO)."""
    from mtst.textio import iter_texts

    if runtime not in RUNTIMES:
        raise MtstError(f"unknown runtime {runtime!r}; choose one of {', '.join(RUNTIMES)}")
    if calibration is not None and quantize != "int8-static":
        raise MtstError("--calibration applies to --quantize int8-static only")
    texts = list(iter_texts(calibration)) if calibration is not None else None
    use_thread_policy()
    if runtime == "openvino":
        from mtst.openvino_export import export_openvino as write
    else:
        from mtst.export import export_onnx as write
    path = write(model, output, quantize=quantize, calibration=texts)
    print(f"exported to {path}")


@app.command()
def behaviour(
    model: Annotated[Path, typer.Option(help="A trained mtst model folder (or an export, with --backend).")],
    suite: Annotated[Path, typer.Option(help="A folder of behaviour YAML files.")] = Path("behaviour/app"),
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object instead of the table.")] = False,
    output: Annotated[Path | None, typer.Option(help="Also write the JSON report here.")] = None,
    min_pass: Annotated[
        float | None, typer.Option(help="Exit with status 1 when a capability's pass rate is below this.")
    ] = None,
    show: Annotated[int, typer.Option(help="Failures shown per capability in the table.")] = 2,
    backend: Annotated[str, typer.Option(help="torch, onnx or openvino.")] = "torch",
    batch_size: int = 32,
) -> None:
    """Behavioural tests (MFT, INV, DIR): pass rates per capability of a suite."""
    from mtst.behaviour import below, format_table, load_suite, report, run_suite

    capabilities = load_suite(suite)  # a broken suite is reported before the model is loaded
    if backend == "torch":
        use_thread_policy()
    results = run_suite(load_model(model, backend), capabilities, batch_size)
    summary = {"model": str(model), "suite": str(suite), **report(results)}
    if output is not None:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(json.dumps(summary, indent=2) + "\n")
    print(json.dumps(summary) if as_json else format_table(results, show))
    if min_pass is not None:
        low = below(results, min_pass)
        if low:
            names = ", ".join(f"{r.capability.name} ({r.pass_rate:.0%})" for r in low)
            print(f"below {min_pass:.0%}: {names}", file=sys.stderr)
            raise typer.Exit(1)


@data_app.command("check")
def data_check(
    files: Annotated[
        list[Path] | None,
        typer.Argument(help="Labelled files (.csv, .tsv, .jsonl, .parquet); default: the --config's data files."),
    ] = None,
    config: Annotated[Path | None, typer.Option(help="Check with this training config's tasks and columns.")] = None,
    text_column: Annotated[str | None, TEXT_COLUMN] = None,
    label_column: Annotated[list[str] | None, LABEL_COLUMN] = None,
    conflicts: Annotated[
        str | None, typer.Option(help="One text with different labels: error (default), first, majority or drop.")
    ] = None,
    show: Annotated[int, typer.Option(help="Problems listed of each kind; the rest are counted.", min=0)] = 10,
) -> None:
    """Validate labelled files and print label counts per task.

    The tasks are the --config's, or --label-column's, or else every column but the text (the labelling
    guide's tasks keep the guide's labels; others take the labels found). Pass the training file first:
    texts that later files share with it are reported as leakage.
    """
    from mtst.data import check_plan

    plan = check_plan(files, config, text_column, label_column, conflicts)
    report = plan.run()
    for note in report.notes:
        print(f"{'warning' if note.startswith('leakage') else 'note'}: {note}", file=sys.stderr)
    kinds: dict[str, list[str]] = {}
    for problem in report.problems:
        kinds.setdefault(problem.kind, []).append(problem.message)
    for kind, messages in kinds.items():
        for message in messages[:show]:
            print(message, file=sys.stderr)
        if len(messages) > show:
            print(f"... and {len(messages) - show} more {kind} problem(s)", file=sys.stderr)
    print(f"{len(report.records)} records in {len(plan.paths)} file(s)")
    for task, counts in report.counts(plan.tasks).items():
        print(f"{task}: {sum(counts.values())} labelled")
        width = max(16, *(len(label) for label in counts))
        for label, n in counts.items():
            print(f"  {label:<{width}} {n}")
    if report.problems:
        raise MtstError(f"{len(report.problems)} problem(s) found; see the lines above")


def main() -> None:
    setup()
    try:
        app()
    except MtstError as err:
        one_line = " ".join(str(err).split("\n"))
        print(f"error: {one_line}", file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
