"""Reading rows from the file formats users have: CSV, TSV, JSON lines and Parquet.

Every format gives the same thing: one `Row` per data row, with its position ("file:line" or
"file:row N") for messages and its cells by column name. A row that cannot be read (bad JSON, a
CSV line with the wrong number of fields) comes back with a `problem` instead of cells, so a check
can list every bad row; a file that cannot be read at all raises MtstError.
"""

import csv
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from mtst.errors import MtstError

FORMATS = {".csv": "csv", ".tsv": "tsv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".parquet": "parquet"}
PARQUET_BATCH = 8192  # rows read at a time: a large Parquet file streams in bounded memory


@dataclass
class Row:
    where: str  # "file:line" (text formats, 1-based, the header is line 1) or "file:row N" (Parquet)
    cells: dict = field(default_factory=dict)
    problem: str | None = None


def table_format(path: Path) -> str:
    """The format named by the file's suffix, or MtstError listing the ones mtst reads."""
    try:
        return FORMATS[path.suffix.lower()]
    except KeyError:
        raise MtstError(
            f"{path}: unknown file type {path.suffix or '(no suffix)'!r}; use .csv, .tsv, .jsonl or .parquet"
        ) from None


def read_columns(path: str | Path) -> list[str] | None:
    """The column names of a CSV, TSV or Parquet file; None for JSON lines, whose keys vary by line."""
    path = Path(path)
    kind = table_format(path)
    _check_readable(path)
    if kind == "jsonl":
        return None
    if kind == "parquet":
        return list(_parquet(path).schema_arrow.names)
    with _open_text(path) as f:
        try:
            header = next(csv.reader(f, delimiter="\t" if kind == "tsv" else ","), None)
        except UnicodeDecodeError as err:
            raise MtstError(f"{path}: not UTF-8 text ({err.reason} at byte {err.start})") from None
        except csv.Error as err:
            raise MtstError(f"{path}: cannot read the header ({err})") from None
    if not header:
        raise MtstError(f"{path} is empty; a {kind.upper()} file needs a header line naming its columns")
    return header


def iter_rows(path: str | Path, columns: list[str] | None = None) -> Iterator[Row]:
    """Every data row of the file; `columns` limits which Parquet columns are read."""
    path = Path(path)
    kind = table_format(path)
    _check_readable(path)
    if kind == "parquet":
        yield from _parquet_rows(path, columns)
    elif kind == "jsonl":
        yield from _jsonl_rows(path)
    else:
        yield from _delimited_rows(path, "\t" if kind == "tsv" else ",")


def _check_readable(path: Path) -> None:
    if not path.exists():
        raise MtstError(f"{path}: no such file")
    if not path.is_file():
        raise MtstError(f"{path} is not a file")


def _open_text(path: Path):
    try:
        # utf-8-sig: spreadsheet programs often start a CSV with a byte-order mark
        return path.open(encoding="utf-8-sig", newline="")
    except OSError as err:
        raise MtstError(f"{path}: cannot open ({err.strerror})") from None


def _delimited_rows(path: Path, delimiter: str) -> Iterator[Row]:
    with _open_text(path) as f:
        reader = csv.reader(f, delimiter=delimiter)
        try:
            header = next(reader, None)
            if not header:
                raise MtstError(f"{path} is empty; it needs a header line naming its columns")
            if len(set(header)) != len(header):
                raise MtstError(f"{path}: the header names a column twice: {', '.join(header)}")
            start = reader.line_num
            for cells in reader:
                where = f"{path}:{start + 1}"
                start = reader.line_num
                if not any(c.strip() for c in cells):
                    continue  # blank line
                if len(cells) != len(header):
                    yield Row(where, problem=f"{len(cells)} fields, but the header has {len(header)}")
                    continue
                yield Row(where, dict(zip(header, cells, strict=True)))
        except UnicodeDecodeError as err:
            raise MtstError(f"{path}: not UTF-8 text ({err.reason} at byte {err.start})") from None
        except csv.Error as err:
            raise MtstError(f"{path}:{reader.line_num}: not readable as {path.suffix[1:].upper()} ({err})") from None


def _jsonl_rows(path: Path) -> Iterator[Row]:
    with _open_text(path) as f:
        try:
            for number, line in enumerate(f, start=1):
                if not line.strip():
                    continue
                where = f"{path}:{number}"
                try:
                    obj = json.loads(line)
                except json.JSONDecodeError as err:
                    yield Row(where, problem=f"invalid JSON ({err.msg} at column {err.colno})")
                    continue
                if not isinstance(obj, dict):
                    yield Row(where, problem=f"each line must be a JSON object, got {type(obj).__name__}")
                    continue
                yield Row(where, obj)
        except UnicodeDecodeError as err:
            raise MtstError(f"{path}: not UTF-8 text ({err.reason} at byte {err.start})") from None


def _parquet(path: Path):
    import pyarrow.parquet as pq

    try:
        return pq.ParquetFile(path)
    except Exception as err:  # pyarrow raises several types for a file that is not Parquet
        raise MtstError(f"{path}: not a readable Parquet file ({err})") from None


def _parquet_rows(path: Path, columns: list[str] | None) -> Iterator[Row]:
    parquet = _parquet(path)
    if columns is not None:
        columns = [c for c in columns if c in parquet.schema_arrow.names]
    number = 0
    for batch in parquet.iter_batches(batch_size=PARQUET_BATCH, columns=columns):
        for cells in batch.to_pylist():
            number += 1
            yield Row(f"{path}:row {number}", cells)
