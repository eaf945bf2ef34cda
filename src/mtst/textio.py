"""Reading texts from files in chunks, so a million-line file runs in bounded memory."""

from collections.abc import Iterator
from pathlib import Path

from mtst.errors import MtstError
from mtst.tables import FORMATS, iter_rows, read_columns

CHUNK = 4096  # texts read, processed and written at a time: bounded memory for any file size


def iter_texts(path: str | Path, text_column: str = "text") -> Iterator[str]:
    """Texts, one at a time: a table's (CSV, TSV, JSON lines, Parquet) `text_column`, or a plain file's lines."""
    path = Path(path)
    if not path.is_file():
        raise MtstError(f"input file {path} does not exist")
    if path.suffix.lower() in FORMATS:
        yield from _table_texts(path, text_column)
        return
    with path.open(encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if line.strip():
                yield line


def _table_texts(path: Path, column: str) -> Iterator[str]:
    names = read_columns(path)
    if names is not None and column not in names:
        raise MtstError(f"{path} has no column {column!r}; its columns are {', '.join(names)}; use --text-column")
    for row in iter_rows(path, [column]):
        if row.problem is not None:
            raise MtstError(f"{row.where}: {row.problem}")
        text = row.cells.get(column)
        if not isinstance(text, str):
            raise MtstError(f"{row.where}: expected a string in {column!r}, got {text!r}")
        yield text


def chunks(items: Iterator[str], size: int) -> Iterator[list[str]]:
    chunk: list[str] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def count_lines(path: str | Path) -> int:
    with open(path, "rb") as f:
        return sum(1 for _ in f)
