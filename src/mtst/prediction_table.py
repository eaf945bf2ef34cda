"""Predictions as Arrow tables and Parquet files: the one shape both engines write (one machine and Ray).

A row per text: `text`, then one struct column per task with the task's label, score and every label's
probability (plus any flag the Prediction carries), and optionally the `embedding`. Types are fixed by
the model's task specs, never inferred from the values, so every batch of a job has the same schema.
Also reading texts from a Parquet file one record batch at a time, so memory does not grow with the file.
"""

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import fields
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from mtst.errors import MtstError
from mtst.outputs import Prediction
from mtst.tasks import TaskSpec

PROBABILITIES = "probabilities"  # the struct field holding Prediction.distribution, one float per label


def task_type(spec: TaskSpec) -> pa.StructType:
    """The struct of one task's answer: label, score, probabilities per label, and Prediction's flags."""
    members = []
    for f in fields(Prediction):
        if f.name == "label":
            members.append(pa.field("label", pa.string()))
        elif f.name == "score":
            members.append(pa.field("score", pa.float32()))
        elif f.name == "distribution":
            members.append(pa.field(PROBABILITIES, pa.struct([pa.field(label, pa.float32()) for label in spec.labels])))
        else:
            members.append(pa.field(f.name, pa.bool_()))
    return pa.struct(members)


def prediction_schema(specs: Mapping[str, TaskSpec], tasks: Sequence[str], dim: int | None) -> pa.Schema:
    columns = [pa.field("text", pa.string())]
    columns += [pa.field(name, task_type(specs[name])) for name in tasks]
    if dim is not None:
        columns.append(pa.field("embedding", pa.list_(pa.float32(), dim)))
    return pa.schema(columns)


def prediction_table(
    texts: Sequence[str],
    results: Sequence[Mapping[str, Prediction]],
    specs: Mapping[str, TaskSpec],
    tasks: Sequence[str],
    embeddings: np.ndarray | None = None,
) -> pa.Table:
    """One row per text: the text, each task's answer, and the embedding when given."""
    dim = None if embeddings is None else int(embeddings.shape[1])
    schema = prediction_schema(specs, tasks, dim)
    columns: list[pa.Array] = [pa.array(list(texts), pa.string())]
    for name in tasks:
        kind = schema.field(name).type
        rows = []
        for result in results:
            answer = result[name].to_dict()
            answer[PROBABILITIES] = answer.pop("distribution")
            rows.append(answer)
        columns.append(pa.array(rows, kind))
    if embeddings is not None:
        flat = pa.array(np.ascontiguousarray(embeddings, dtype=np.float32).reshape(-1))
        columns.append(pa.FixedSizeListArray.from_arrays(flat, dim))
    return pa.Table.from_arrays(columns, schema=schema)


def parquet_columns(path: Path) -> list[str]:
    try:
        return list(pq.read_schema(path).names)
    except Exception as err:  # pyarrow raises several types for a file that is not Parquet
        raise MtstError(f"{path}: not a readable Parquet file ({err})") from None


def check_parquet_column(path: Path, column: str) -> None:
    names = parquet_columns(path)
    if column not in names:
        raise MtstError(f"{path} has no column {column!r}; its columns are {', '.join(names)}; use --text-column")


def parquet_rows(path: str | Path) -> int:
    """Rows in a Parquet file, from its footer (nothing else is read)."""
    return pq.ParquetFile(path).metadata.num_rows


def iter_parquet_texts(path: str | Path, column: str = "text", batch_rows: int = 4096) -> Iterator[str]:
    """The texts of one Parquet column, read a record batch at a time (never the whole file)."""
    path = Path(path)
    if not path.is_file():
        raise MtstError(f"input file {path} does not exist")
    check_parquet_column(path, column)
    row = 0
    for batch in pq.ParquetFile(path).iter_batches(batch_size=batch_rows, columns=[column]):
        for text in batch.column(0).to_pylist():
            if not isinstance(text, str):
                raise MtstError(f"{path}: row {row + 1} of column {column!r} is {text!r}, not a string")
            row += 1
            yield text
