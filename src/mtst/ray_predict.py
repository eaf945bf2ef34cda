"""Batch prediction on a Ray cluster: Ray Data reads JSONL or Parquet, a pool of actors scores, Parquet or JSONL out.

Each actor loads the model once and then scores batch after batch (`map_batches` over an actor pool);
on a cluster with GPUs each torch actor takes one (or its share). An id column, when named, travels with
its text. Rows come out in input order as far as Ray Data's `preserve_order` keeps it (output parts named
part-000000, part-000001, ... in that order); under load it has been seen to swap neighbouring blocks, so
join on the id column (or the text) rather than on row position. An actor that dies is restarted and its
batch retried by Ray, so every input row appears exactly once in the output. Ray is an optional extra
(`pip install mtst[ray]`), imported only here, only when used.
"""

import glob
import json
import os
import re
import warnings
from collections.abc import Sequence
from pathlib import Path

from mtst.errors import MtstError

INPUT_FORMATS = {".parquet": "parquet", ".jsonl": "jsonl", ".ndjson": "jsonl"}
OUTPUT_FORMATS = ("parquet", "jsonl")
ACTOR_START_TIMEOUT_S = 600  # loading a model on a busy node can take a while; a pool that never starts cannot


def import_ray():
    try:
        import ray
        import ray.data
    except ImportError:
        raise MtstError("--engine ray needs Ray: pip install 'mtst[ray]'") from None
    return ray


def input_files(spec: str | Path) -> tuple[list[str], str]:
    """The files a folder, glob or file names, sorted, and their format (parquet or jsonl).

    A URI (s3://..., gs://...) is handed to Ray as it is; its format comes from its suffix.
    """
    spec = str(spec)
    if "://" in spec:
        files = [spec]
    elif Path(spec).is_dir():
        files = sorted(str(p) for p in Path(spec).iterdir() if p.suffix.lower() in INPUT_FORMATS)
    elif Path(spec).is_file():
        files = [spec]
    else:
        files = sorted(glob.glob(spec))
    if not files:
        raise MtstError(f"no input files found at {spec}; give a folder, a glob or a file (.parquet or .jsonl)")
    kinds = {INPUT_FORMATS.get(Path(f.rstrip("/")).suffix.lower()) for f in files}
    if None in kinds:
        raise MtstError(f"{spec}: --engine ray reads .parquet or .jsonl files")
    if len(kinds) > 1:
        raise MtstError(f"{spec} mixes Parquet and JSONL files; give one format at a time")
    return [str(Path(f).resolve()) if "://" not in f else f for f in files], kinds.pop()


def input_columns(path: str, kind: str) -> list[str] | None:
    """The columns of a local input file (Parquet: its schema; JSONL: its first row's keys); None for a URI."""
    if "://" in path:
        return None
    if kind == "parquet":
        from mtst.prediction_table import parquet_columns

        return parquet_columns(Path(path))
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, start=1):
            if line.strip():
                try:
                    row = json.loads(line)
                except json.JSONDecodeError as err:
                    raise MtstError(f"{path}:{number}: invalid JSON ({err.msg})") from None
                return list(row) if isinstance(row, dict) else []
    return None  # an empty file: nothing to check


def model_tasks(model: Path, tasks: Sequence[str] | None) -> list[str]:
    """The tasks to run, checked against the model folder's tasks.json on the driver, before any actor starts."""
    from mtst.outputs import check_tasks
    from mtst.tasks import read_task_file

    if not (model / "tasks.json").is_file():
        raise MtstError(f"{model} is not an mtst model folder or ONNX export (no tasks.json)")
    known = {spec.name: spec for spec in read_task_file(model / "tasks.json").tasks}
    return check_tasks(tasks, known)


def load_for_actor(model: str, backend: str, precision: str, threads: int, device: str):
    """The model as one actor runs it: on `threads` cores (its Ray share, not the whole node), on `device`."""
    from mtst.backend import load_model

    os.environ["OMP_NUM_THREADS"] = str(threads)  # mtst's thread policy (mtst.streams.policy_threads) reads it
    if backend == "torch":
        from mtst.device import apply_thread_policy

        apply_thread_policy()
        return load_model(model, backend, precision, streams=threads, device=device)
    return load_model(model, backend, precision, streams=1)  # one batch at a time on the actor's threads


class Scorer:
    """The actor: loads the model once, then turns each batch of rows (an Arrow table) into predictions."""

    def __init__(
        self,
        model: str,
        backend: str,
        precision: str,
        tasks: list[str],
        text_column: str,
        id_column: str | None,
        batch_size: int,
        embeddings: bool,
        threads: int,
        device: str,
    ) -> None:
        self.model = load_for_actor(model, backend, precision, threads, device)
        self.tasks = tasks
        self.text_column = text_column
        self.id_column = id_column
        self.batch_size = batch_size
        self.embeddings = embeddings

    def __call__(self, batch):
        from mtst.prediction_io import score_texts
        from mtst.prediction_table import prediction_table

        texts = batch.column(self.text_column).to_pylist()
        for i, text in enumerate(texts):
            if not isinstance(text, str) or not text.strip():
                where = (
                    f"the row with {self.id_column}={batch.column(self.id_column)[i].as_py()!r}"
                    if self.id_column
                    else "a row"
                )
                raise MtstError(f"{where} has no text in {self.text_column!r} (got {text!r}); fill or drop it")
        results, vectors = score_texts(self.model, texts, self.tasks, self.batch_size, self.embeddings)
        table = prediction_table(texts, results, self.model.tasks, self.tasks, vectors)
        if self.id_column is not None:
            table = table.add_column(0, self.id_column, batch.column(self.id_column))
        return table


def part_names(ray, extension: str):
    """Output files named part-000000.EXT, part-000001.EXT, ... in input order."""
    from ray.data.datasource import FilenameProvider

    class PartNames(FilenameProvider):
        def get_filename_for_task(self, write_uuid: str, task_index: int) -> str:
            return f"part-{task_index:06d}.{extension}"

    return PartNames()


def actor_resources(ray, actors: int, backend: str, cpus: float | None, gpus: float | None) -> tuple[float, float]:
    """CPUs and GPUs each actor reserves.

    GPUs: one each (or a share, with fewer GPUs than actors) when the cluster has any and the backend is
    torch. CPUs: one each, or a share when that would leave no CPU for Ray Data's read and write tasks.
    """
    cluster = ray.cluster_resources()
    if gpus is None:
        have = cluster.get("GPU", 0.0)
        gpus = min(1.0, have / actors) if have and backend == "torch" else 0.0
    if cpus is None:
        total = cluster.get("CPU", 1.0)
        cpus = min(1.0, max(total - 1.0, total / 2) / actors)
    return cpus, gpus


def user_error(err: BaseException) -> MtstError | None:
    """The MtstError an actor raised (a mistake in the data), from the exception Ray wraps it in.

    Ray sends the actor's exception back as text inside its own (RayTaskError around UserCodeException),
    so the message is taken from the traceback's last `mtst.errors.MtstError: ...` line.
    """
    found = re.findall(r"mtst\.errors\.MtstError: (.+)", str(err))
    return MtstError(found[-1].strip()) if found else None


def predict_ray(
    model: str | Path,
    inputs: str | Path,
    output: str | Path,
    *,
    tasks: Sequence[str] | None = None,
    backend: str = "torch",
    precision: str = "fp32",
    text_column: str = "text",
    id_column: str | None = None,
    embeddings: bool = False,
    output_format: str = "parquet",
    actors: int = 2,
    rows_per_batch: int = 4096,
    batch_size: int = 32,
    cpus_per_actor: float | None = None,
    gpus_per_actor: float | None = None,
    max_restarts: int = 3,
    address: str | None = None,
    scorer: type = Scorer,
) -> Path:
    """Score every row of `inputs` (a folder, glob or file of Parquet or JSONL) into part files under `output`.

    Joins the Ray cluster at `address` ("auto": the one started by `ray start`), or the one this process
    already joined, or starts a local one. Each of `actors` actors scores `rows_per_batch` rows at a time,
    `batch_size` per encoder batch. A dead actor is restarted and its batch retried up to `max_restarts`
    times. `scorer`: the actor class (a subclass can add work around each batch).
    """
    if output_format not in OUTPUT_FORMATS:
        raise MtstError(f"unknown output format {output_format!r}; choose parquet or jsonl")
    if actors < 1 or rows_per_batch < 1:
        raise MtstError("--actors and --chunk-size must be at least 1")
    model = Path(model).resolve()  # actors run elsewhere: every node needs the same absolute path
    names = model_tasks(model, tasks)
    files, kind = input_files(inputs)
    columns = input_columns(files[0], kind)
    for column, option in ((text_column, "--text-column"), (id_column, "--id-column")):
        if column is not None and columns is not None and column not in columns:
            raise MtstError(f"{files[0]} has no column {column!r}; its columns are {', '.join(columns)}; use {option}")
    if id_column is not None and (id_column == "text" or id_column in names or id_column == "embedding"):
        raise MtstError(f"--id-column {id_column!r} would clash with an output column; rename it")
    output = Path(output)
    if "://" not in str(output):
        if output.exists() and (not output.is_dir() or any(output.iterdir())):
            raise MtstError(f"{output} exists and is not an empty folder; choose a new output folder")
        output = output.resolve()

    ray = import_ray()
    if not ray.is_initialized():
        ray.init(address=address, log_to_driver=False)
    cpus, gpus = actor_resources(ray, actors, backend, cpus_per_actor, gpus_per_actor)
    context = ray.data.DataContext.get_current()
    keep = context.execution_options.preserve_order, context.wait_for_min_actors_s
    context.execution_options.preserve_order = True  # output rows in input order, whichever actor scored them
    # Start scoring once the whole pool is up (so every actor shares the work), and fail with a message,
    # rather than wait forever, when the cluster cannot host the pool.
    context.wait_for_min_actors_s = ACTOR_START_TIMEOUT_S
    try:
        read = ray.data.read_parquet if kind == "parquet" else ray.data.read_json
        wanted = [text_column] + ([id_column] if id_column else [])
        # Blocks of at most one batch, cut as rows stream in: every actor gets work, even from one big file.
        # Each block is then scored alone (map_batches' batch_size=None): when Ray bundled several small
        # blocks into one batch it joined them out of order 1 run in 8 under load (the rest of one file
        # after the start of the next); alone, blocks still swapped 1 run in 27, so order is best effort.
        rows = read(files).select_columns(wanted).repartition(target_num_rows_per_block=rows_per_batch)
        with warnings.catch_warnings():
            # Ray 2.60 deprecates passing actor options such as max_restarts this way, with no other way yet.
            warnings.filterwarnings("ignore", message=".*ray_remote_args.* is deprecated")
            scored = rows.map_batches(
                scorer,
                fn_constructor_kwargs={
                    "model": str(model),
                    "backend": backend,
                    "precision": precision,
                    "tasks": names,
                    "text_column": text_column,
                    "id_column": id_column,
                    "batch_size": batch_size,
                    "embeddings": embeddings,
                    "threads": max(1, int(cpus)),
                    "device": "cuda" if gpus > 0 else "cpu",
                },
                batch_size=None,  # one block a call, see above
                batch_format="pyarrow",
                compute=ray.data.ActorPoolStrategy(size=actors),
                num_cpus=cpus,
                num_gpus=gpus,
                max_restarts=max_restarts,
                max_task_retries=max_restarts,
            )
        write = scored.write_parquet if output_format == "parquet" else scored.write_json
        write(str(output), filename_provider=part_names(ray, output_format), mode=ray.data.SaveMode.OVERWRITE)
    except Exception as err:
        mistake = user_error(err)
        if mistake is not None:
            raise mistake from None
        raise
    finally:
        context.execution_options.preserve_order, context.wait_for_min_actors_s = keep
    return output
