"""Reading texts from files in chunks, so a million-line file runs in bounded memory."""

import json
from collections.abc import Iterator
from pathlib import Path

from mtst.errors import MtstError

CHUNK = 4096  # texts read, processed and written at a time: bounded memory for any file size


def iter_texts(path: str | Path, text_column: str = "text") -> Iterator[str]:
    """Texts from a .jsonl file (the `text_column` field) or a plain file (one text a line), one at a time."""
    path = Path(path)
    if not path.is_file():
        raise MtstError(f"input file {path} does not exist")
    is_jsonl = path.suffix in (".jsonl", ".ndjson")
    with path.open(encoding="utf-8") as f:
        for number, line in enumerate(f, start=1):
            line = line.rstrip("\n")
            if not is_jsonl:
                if line.strip():
                    yield line
                continue
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as err:
                raise MtstError(f"{path}:{number}: invalid JSON ({err.msg})") from None
            if not isinstance(obj, dict) or not isinstance(obj.get(text_column), str):
                raise MtstError(f"{path}:{number}: expected an object with a string {text_column!r} field")
            yield obj[text_column]


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
