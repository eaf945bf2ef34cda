import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import torch

from mtst.errors import MtstError
from mtst.model import MultiTaskModel
from mtst.prediction_io import keep_whole_chunks, parse_shard, predict_stream

WORDS = "receipt points scan store milk bread coupon reward friend account help total tax bonus code".split()


@pytest.fixture(scope="module")
def model_dir(encoder, tmp_path_factory):
    torch.manual_seed(1)
    folder = tmp_path_factory.mktemp("model")
    MultiTaskModel(encoder).save(folder)
    return folder


@pytest.fixture(scope="module")
def model(model_dir):
    return MultiTaskModel.load(model_dir)


def texts_file(path, n):
    lines = [" ".join(WORDS[(i * 7 + k) % len(WORDS)] for k in range(2 + i % 5)) + f" {i}" for i in range(n)]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_shards_put_together_are_the_unsharded_output(model, tmp_path):
    source = texts_file(tmp_path / "in.txt", 101)
    predict_stream(model, source, tmp_path / "all.jsonl", ["query_intent"], chunk_size=10)
    parts = []
    for i in range(3):
        out = tmp_path / f"part{i}.jsonl"
        predict_stream(model, source, out, ["query_intent"], shard=(i, 3), chunk_size=10)
        parts.append(out.read_text())
    assert "".join(parts) == (tmp_path / "all.jsonl").read_text()  # to the last digit of every score
    assert [len(p.splitlines()) for p in parts] == [30, 40, 31]


def test_resume_continues_after_a_torn_last_line(model, tmp_path):
    source = texts_file(tmp_path / "in.txt", 50)
    whole = tmp_path / "whole.jsonl"
    predict_stream(model, source, whole, ["sentence_type"], chunk_size=8)
    lines = whole.read_text().splitlines(keepends=True)
    broken = tmp_path / "broken.jsonl"
    broken.write_text("".join(lines[:20]) + lines[20][:15])  # a kill in the middle of line 21
    written = predict_stream(model, source, broken, ["sentence_type"], resume=True, chunk_size=8)
    assert written == 34  # back to the last whole chunk of 8 (16 lines), then on to the end
    assert broken.read_text() == whole.read_text()


def test_complete_lines_and_shard_parsing(tmp_path):
    f = tmp_path / "x"
    f.write_text("a\nb\nc\nhalf")
    assert keep_whole_chunks(f, 2) == 2 and f.read_text() == "a\nb\n"
    assert parse_shard("1/4") == (1, 4) and parse_shard(None) == (0, 1)
    for bad in ("4/4", "x/2", "1"):
        with pytest.raises(MtstError, match="shard"):
            parse_shard(bad)


def test_killed_cli_run_resumes_to_the_same_lines(model_dir, tmp_path):
    """SIGKILL a real `mtst predict` mid-file, resume it, and get exactly the uninterrupted output."""
    source = texts_file(tmp_path / "in.txt", 1500)
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    base = [
        sys.executable,
        "-m",
        "mtst",
        "predict",
        "--model",
        str(model_dir),
        "--input",
        str(source),
        "--chunk-size",
        "100",
    ]
    killed = tmp_path / "killed.jsonl"
    proc = subprocess.Popen([*base, "--output", str(killed)], env=env, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 300
    while not killed.exists() or killed.stat().st_size == 0:
        assert proc.poll() is None, "the run ended before it could be killed"
        assert time.monotonic() < deadline
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    partial = len(killed.read_text().splitlines())
    assert 0 < partial < 1500
    subprocess.run([*base, "--output", str(killed), "--resume"], env=env, check=True, capture_output=True)
    whole = tmp_path / "whole.jsonl"
    subprocess.run([*base, "--output", str(whole), "--shard", "0/1"], env=env, check=True, capture_output=True)
    assert killed.read_text() == whole.read_text()
    first = json.loads(whole.read_text().splitlines()[0])
    assert set(first) == {"text", "text_kind", "sentence_type", "receipt_quality", "query_intent"}


def parquet_texts_file(path, n, column="body", row_group_size=17):
    import pyarrow as pa
    import pyarrow.parquet as pq

    lines = texts_file(path.with_suffix(".txt"), n).read_text().splitlines()
    pq.write_table(pa.table({"id": list(range(n)), column: lines}), path, row_group_size=row_group_size)
    return path, lines


def test_parquet_in_and_out_give_the_jsonl_answers(tiny_model_dir, tmp_path):
    """A Parquet input streamed in row groups, written as Parquet: the same labels and scores as JSON lines,
    every head's probabilities, and the embedding from the same pass."""
    import pyarrow.parquet as pq

    model = MultiTaskModel.load(tiny_model_dir)
    source, lines = parquet_texts_file(tmp_path / "in.parquet", 45)
    tasks = ["sentence_type", "query_intent"]
    assert predict_stream(model, source, tmp_path / "out.parquet", tasks, chunk_size=10, text_column="body") == 45
    predict_stream(model, source, tmp_path / "out.jsonl", tasks, chunk_size=10, text_column="body", embeddings=True)
    table = pq.read_table(tmp_path / "out.parquet")
    assert not (tmp_path / "out.parquet.partial").exists()
    assert pq.ParquetFile(tmp_path / "out.parquet").num_row_groups == 5  # a row group per chunk
    assert table.column_names == ["text", "sentence_type", "query_intent"]
    rows = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert table.column("text").to_pylist() == lines == [r["text"] for r in rows]
    for task in tasks:
        answers = table.column(task).to_pylist()
        assert [a["label"] for a in answers] == [r[task]["label"] for r in rows]
        assert [a["score"] for a in answers] == pytest.approx([r[task]["score"] for r in rows], abs=1e-7)
        labels = list(model.tasks[task].labels)
        for a in answers:
            assert list(a["probabilities"]) == labels
            assert sum(a["probabilities"].values()) == pytest.approx(1, abs=1e-5)
            assert a["score"] == max(a["probabilities"].values())
    vectors = np.array([r["embedding"] for r in rows])
    expected = model.encoder.encode(lines)
    assert np.abs(vectors - expected).max() < 1e-5


def test_parquet_errors_say_what_to_fix(tiny_model_dir, tmp_path):
    model = MultiTaskModel.load(tiny_model_dir)
    source, _ = parquet_texts_file(tmp_path / "in.parquet", 5)
    with pytest.raises(MtstError, match="no column 'text'.*id, body.*--text-column"):
        predict_stream(model, source, tmp_path / "out.parquet", ["query_intent"])
    with pytest.raises(MtstError, match="--resume needs a .jsonl output"):
        predict_stream(model, source, tmp_path / "out.parquet", ["query_intent"], resume=True, text_column="body")
    (tmp_path / "bad.parquet").write_text("not parquet")
    with pytest.raises(MtstError, match="not a readable Parquet file"):
        predict_stream(model, tmp_path / "bad.parquet", tmp_path / "out.parquet", ["query_intent"])
