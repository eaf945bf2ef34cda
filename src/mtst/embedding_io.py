"""Embedding texts and files for the command line: .npy or JSON lines, in bounded memory."""

import json
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from mtst.errors import MtstError
from mtst.textio import chunks, count_lines, iter_texts

CHUNK = 4096


def load_encoder(model: Path | None, precision: str = "fp32"):
    """An mtst model folder's encoder, any Hugging Face encoder folder, or the default."""
    from mtst.encoder import SentenceEncoder
    from mtst.tasks import read_task_file

    max_length = 256
    if model is not None and (Path(model) / "tasks.json").is_file():
        max_length = read_task_file(Path(model) / "tasks.json").max_length
    return SentenceEncoder(model, max_length=max_length, precision=precision)


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
    """Embed a file chunk by chunk; .npy is written through a memory map, so memory stays bounded."""
    if output.suffix not in (".npy", ".jsonl", ".ndjson"):
        raise MtstError(f"output {output} must end in .npy or .jsonl")
    encoder = load_encoder(model, precision)
    total = count_lines(input_file)
    written = 0
    progress = tqdm(total=total, desc="embed", unit="text")
    if output.suffix == ".npy":
        # The line count bounds the row count; blank lines are dropped and the file trimmed at the end.
        partial = output.with_suffix(".partial.npy")
        array = np.lib.format.open_memmap(partial, mode="w+", dtype=np.float32, shape=(total, encoder.dim))
        for chunk in chunks(iter_texts(input_file), CHUNK):
            array[written : written + len(chunk)] = encoder.encode(chunk, batch_size=batch_size)
            written += len(chunk)
            progress.update(len(chunk))
        array.flush()
        del array
        if written != total:
            full = np.load(partial, mmap_mode="r")
            np.save(output, full[:written])
            partial.unlink()
        else:
            partial.rename(output)
    else:
        with output.open("w") as f:
            for chunk in chunks(iter_texts(input_file), CHUNK):
                for row in encoder.encode(chunk, batch_size=batch_size):
                    f.write(json.dumps({"embedding": row.tolist()}) + "\n")
                written += len(chunk)
                progress.update(len(chunk))
    progress.close()
    return written
