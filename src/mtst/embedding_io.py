"""Embedding texts and files for the command line: .npy or JSON lines, in bounded memory."""

import json
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from mtst.errors import MtstError
from mtst.textio import CHUNK, chunks, iter_texts


def load_encoder(model: Path | None, precision: str = "fp32"):
    """An mtst model folder's encoder (serving the embedding that model serves), any Hugging Face encoder
    folder, or the default."""
    from mtst.encoder import SentenceEncoder

    if model is not None and (Path(model) / "tasks.json").is_file():
        from mtst.model import MultiTaskModel

        return MultiTaskModel.load(model, precision=precision).encoder
    encoder = SentenceEncoder(model, precision=precision)
    if precision == "auto":
        from mtst.precision import settle_auto_precision

        settle_auto_precision(encoder)
    return encoder


def embed_texts(texts: list[str], model: Path | None, batch_size: int, precision: str) -> np.ndarray:
    return load_encoder(model, precision).encode(texts, batch_size=batch_size)


def write_vectors(vectors: np.ndarray, output: Path) -> None:
    if output.suffix == ".npy":
        np.save(output, vectors)
    elif output.suffix in (".jsonl", ".ndjson"):
        with output.open("w") as f:
            for row in vectors:
                f.write(json.dumps({"embedding": row.tolist()}) + "\n")
    else:
        raise MtstError(f"output {output} must end in .npy or .jsonl")


def embed_file(input_file: Path, output: Path, model: Path | None, batch_size: int, precision: str) -> int:
    """Embed a file chunk by chunk; .npy is written through a memory map, so memory stays bounded.

    Rows go to a partial file beside the output, renamed into place only when every text is embedded:
    on any failure (a model error, a full disk, Ctrl-C) the partial file is removed and no output appears.
    """
    if output.suffix not in (".npy", ".jsonl", ".ndjson"):
        raise MtstError(f"output {output} must end in .npy or .jsonl")
    encoder = load_encoder(model, precision)
    total = sum(1 for _ in iter_texts(input_file))  # rows, not lines: a Parquet file has no lines
    partial = output.with_suffix(".partial" + output.suffix)
    progress = tqdm(total=total, desc="embed", unit="text")
    try:
        if output.suffix == ".npy":
            written = _embed_to_npy(encoder, input_file, partial, total, batch_size, progress)
        else:
            written = _embed_to_jsonl(encoder, input_file, partial, batch_size, progress)
        partial.replace(output)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    finally:
        progress.close()
    return written


def _embed_to_npy(encoder, input_file: Path, partial: Path, total: int, batch_size: int, progress) -> int:
    # `total` counts the rows to come; should fewer come, the file is trimmed at the end.
    array = np.lib.format.open_memmap(partial, mode="w+", dtype=np.float32, shape=(total, encoder.dim))
    written = 0
    for chunk in chunks(iter_texts(input_file), CHUNK):
        array[written : written + len(chunk)] = encoder.encode(chunk, batch_size=batch_size)
        written += len(chunk)
        progress.update(len(chunk))
    array.flush()
    del array
    if written != total:  # rewrite the kept rows to a second partial file, then swap it in
        trimmed = partial.with_suffix(".trim.npy")
        try:
            np.save(trimmed, np.load(partial, mmap_mode="r")[:written])
            trimmed.replace(partial)
        finally:
            trimmed.unlink(missing_ok=True)
    return written


def _embed_to_jsonl(encoder, input_file: Path, partial: Path, batch_size: int, progress) -> int:
    written = 0
    with partial.open("w") as f:
        for chunk in chunks(iter_texts(input_file), CHUNK):
            for row in encoder.encode(chunk, batch_size=batch_size):
                f.write(json.dumps({"embedding": row.tolist()}) + "\n")
            written += len(chunk)
            progress.update(len(chunk))
    return written
