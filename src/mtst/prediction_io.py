"""Predicting over files of any size: streamed in chunks, written in input order, resumable, shardable.

The input is cut into chunks at fixed positions (every CHUNK texts), and every chunk is batched the
same way whichever run handles it, so results are the same to the last bit. A shard is a contiguous
run of whole chunks: the outputs of shards 0/n, 1/n, ... put one after another are exactly the
output of an unsharded run. A killed run resumes from the last whole chunk in its output.
"""

import json
from collections.abc import Iterator, Sequence
from itertools import islice
from pathlib import Path

from tqdm.auto import tqdm

from mtst.errors import MtstError
from mtst.textio import CHUNK, chunks, iter_texts


def prediction_row(text: str, result: dict) -> dict:
    """The JSON shape of one text's predictions: {"text": ..., task: {"label", "score"}, ...}."""
    row: dict = {"text": text}
    for name, p in result.items():
        row[name] = {"label": p.label, "score": p.score}
    return row


def parse_shard(value: str | None) -> tuple[int, int]:
    """'i/n' -> (i, n), with 0 <= i < n; None -> the whole input (0, 1)."""
    if value is None:
        return 0, 1
    try:
        index, count = (int(part) for part in value.split("/"))
    except ValueError:
        raise MtstError(f"--shard must look like i/n (e.g. 0/4), got {value!r}") from None
    if count < 1 or not 0 <= index < count:
        raise MtstError(f"--shard {value}: need 0 <= i < n")
    return index, count


def shard_bounds(total: int, index: int, count: int, chunk: int = CHUNK) -> tuple[int, int]:
    """The [start, stop) positions of shard `index` of `count` over `total` texts, on chunk boundaries."""
    blocks = -(-total // chunk)
    return min(total, blocks * index // count * chunk), min(total, blocks * (index + 1) // count * chunk)


def keep_whole_chunks(path: Path, chunk: int) -> int:
    """Cut `path` back to its last whole chunk of lines (a kill can leave a part chunk or a torn line)."""
    if not path.exists():
        return 0
    lines, keep_bytes, position = 0, 0, 0
    with path.open("rb") as f:
        for line in f:
            position += len(line)
            if line.endswith(b"\n"):
                lines += 1
                if lines % chunk == 0:
                    keep_bytes = position
    with path.open("rb+") as f:
        f.truncate(keep_bytes)
    return lines - lines % chunk


def predict_stream(
    model,
    input_file: Path,
    output: Path,
    tasks: Sequence[str],
    batch_size: int = 32,
    resume: bool = False,
    shard: tuple[int, int] = (0, 1),
    chunk_size: int = CHUNK,
) -> int:
    """Predict a file chunk by chunk into JSON lines, one per input text; returns lines written now."""
    total = sum(1 for _ in iter_texts(input_file))
    start, stop = shard_bounds(total, *shard, chunk=chunk_size)
    done = keep_whole_chunks(output, chunk_size) if resume else 0
    if done > stop - start:
        raise MtstError(f"{output} already has {done} lines, more than this shard's {stop - start}; wrong file?")
    texts: Iterator[str] = islice(iter_texts(input_file), start + done, stop)
    written = 0
    with (
        output.open("a" if resume else "w") as f,
        tqdm(total=stop - start, initial=done, desc="predict", unit="text") as bar,
    ):
        for chunk in chunks(texts, chunk_size):
            for text, result in zip(chunk, model.predict(chunk, tasks, batch_size), strict=True):
                f.write(json.dumps(prediction_row(text, result)) + "\n")
            f.flush()  # whole chunks reach the file, so a kill loses at most the chunk in flight
            written += len(chunk)
            bar.update(len(chunk))
    return written
