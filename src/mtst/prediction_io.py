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
    """The JSON shape of one text's predictions: {"text": ..., task: {"label", "score", flags}, ...}.

    label is null where the head abstained or does not apply; the flags say which (and whether it was given).
    """
    row: dict = {"text": text}
    for name, p in result.items():
        row[name] = {k: v for k, v in p.to_dict().items() if k != "distribution"}
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


def score_texts(
    model, texts: Sequence[str], tasks: Sequence[str], batch_size: int, embeddings: bool = False, given=None
):
    """The model's predictions for `texts`, and their embeddings when asked (from the same encoder pass)."""
    if not embeddings:
        return model.predict(texts, tasks, batch_size, given=given), None
    from mtst.routing import with_dependencies

    outputs = model.run(texts, with_dependencies(tasks, model.tasks), batch_size)  # routing may need other heads
    return [{t: row[t] for t in tasks} for row in model.predictions(outputs, given)], outputs.embeddings


def read_texts(path: Path, text_column: str = "text") -> Iterator[str]:
    """Texts from a Parquet file (its `text_column`, a record batch at a time), a .jsonl or a plain file."""
    if Path(path).suffix.lower() == ".parquet":
        from mtst.prediction_table import iter_parquet_texts

        return iter_parquet_texts(path, text_column)
    return iter_texts(path, text_column)


def count_texts(path: Path, text_column: str = "text") -> int:
    if Path(path).suffix.lower() == ".parquet":
        from mtst.prediction_table import check_parquet_column, parquet_rows

        check_parquet_column(Path(path), text_column)
        return parquet_rows(path)  # the footer says it: nothing is read
    return sum(1 for _ in iter_texts(path, text_column))


def predict_stream(
    model,
    input_file: Path,
    output: Path,
    tasks: Sequence[str],
    batch_size: int = 32,
    resume: bool = False,
    shard: tuple[int, int] = (0, 1),
    chunk_size: int = CHUNK,
    text_column: str = "text",
    embeddings: bool = False,
    given: dict[str, str] | None = None,
) -> int:
    """Predict a file chunk by chunk, one output row per input text; returns rows written now.

    The input is .jsonl, .parquet or plain text; the output is JSON lines, or Parquet when `output` ends in
    .parquet (a row group per chunk, written to a side file and renamed when complete). embeddings: add
    each text's embedding, from the same encoder pass. given: labels known for every text (e.g.
    {"text_kind": "ocr_receipt"}), as in model.predict.
    """
    to_parquet = output.suffix.lower() == ".parquet"
    if resume and to_parquet:
        raise MtstError("--resume needs a .jsonl output: a Parquet file is readable only once it is complete")
    total = count_texts(input_file, text_column)
    start, stop = shard_bounds(total, *shard, chunk=chunk_size)
    done = keep_whole_chunks(output, chunk_size) if resume else 0
    if done > stop - start:
        raise MtstError(f"{output} already has {done} lines, more than this shard's {stop - start}; wrong file?")
    texts: Iterator[str] = islice(read_texts(input_file, text_column), start + done, stop)
    with tqdm(total=stop - start, initial=done, desc="predict", unit="text") as bar:
        if to_parquet:
            return _predict_to_parquet(model, texts, output, tasks, batch_size, chunk_size, embeddings, bar, given)
        written = 0
        with output.open("a" if resume else "w") as f:
            for chunk in chunks(texts, chunk_size):
                results, vectors = score_texts(model, chunk, tasks, batch_size, embeddings, given)
                for i, (text, result) in enumerate(zip(chunk, results, strict=True)):
                    row = prediction_row(text, result)
                    if vectors is not None:
                        row["embedding"] = vectors[i].tolist()
                    f.write(json.dumps(row) + "\n")
                f.flush()  # whole chunks reach the file, so a kill loses at most the chunk in flight
                written += len(chunk)
                bar.update(len(chunk))
    return written


def _predict_to_parquet(model, texts, output: Path, tasks, batch_size, chunk_size, embeddings, bar, given=None) -> int:
    """Write each chunk's predictions as one row group of a Parquet file; memory holds one chunk."""
    import pyarrow.parquet as pq

    from mtst.prediction_table import prediction_schema, prediction_table

    dim = (model.dim if hasattr(model, "dim") else model.encoder.dim) if embeddings else None
    schema = prediction_schema(model.tasks, tasks, dim)
    partial = output.with_name(output.name + ".partial")  # a killed run never leaves a file that looks whole
    written = 0
    with pq.ParquetWriter(partial, schema) as writer:
        for chunk in chunks(texts, chunk_size):
            results, vectors = score_texts(model, chunk, tasks, batch_size, embeddings, given)
            writer.write_table(prediction_table(chunk, results, model.tasks, tasks, vectors))
            written += len(chunk)
            bar.update(len(chunk))
    partial.replace(output)
    return written
