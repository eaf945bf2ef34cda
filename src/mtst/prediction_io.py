"""Predicting over files for the command line: streamed in chunks, written in input order."""

import json
from collections.abc import Sequence
from pathlib import Path

from tqdm.auto import tqdm

from mtst.textio import chunks, count_lines, iter_texts

CHUNK = 4096


def prediction_row(text: str, result: dict) -> dict:
    """The JSON shape of one text's predictions: {"text": ..., task: {"label", "score"}, ...}."""
    row: dict = {"text": text}
    for name, p in result.items():
        row[name] = {"label": p.label, "score": p.score}
    return row


def predict_stream(model, input_file: Path, output: Path, tasks: Sequence[str], batch_size: int = 32) -> int:
    """Predict a file of any size chunk by chunk, writing one JSON line per input text."""
    written = 0
    with output.open("w") as f, tqdm(total=count_lines(input_file), desc="predict", unit="text") as bar:
        for chunk in chunks(iter_texts(input_file), CHUNK):
            for text, result in zip(chunk, model.predict(chunk, tasks, batch_size)):
                f.write(json.dumps(prediction_row(text, result)) + "\n")
            written += len(chunk)
            bar.update(len(chunk))
    return written
