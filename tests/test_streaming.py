"""Large inputs stream: `mtst embed` and `mtst predict` on a file keep peak memory flat as the file grows."""

import json
import shutil
import subprocess
import sys

import numpy as np
import pytest
from conftest import ROOT

# Runs the CLI once per argument list (JSON) in one process, importing torch once, and reports after each
# run the peak of the process's anonymous memory (RssAnon, sampled every 5 ms). Not VmHWM: the .npy output is
# written through a memory map, and its dirty file pages count in RSS while being page cache the kernel can
# write back and drop at any time.
RUNNER = """
import json, os, sys, threading, time

# One core, so one thread: the test is about memory, and two threads crawl on a busy two-core machine.
os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
peak = [0]

def rss_anon_kb():
    with open('/proc/self/status') as f:
        return int(next(line for line in f if line.startswith('RssAnon')).split()[1])

def sample():
    while True:
        peak[0] = max(peak[0], rss_anon_kb())
        time.sleep(0.005)

threading.Thread(target=sample, daemon=True).start()
from mtst.cli import main

for args in json.loads(sys.argv[1]):
    sys.argv = ['mtst', *args]
    peak[0] = rss_anon_kb()
    try:
        main()
    except SystemExit as done:
        assert not done.code, done.code
    time.sleep(0.02)
    sys.stderr.write('PEAK_KB ' + str(peak[0]) + chr(10))
"""

SMALL, LARGE = 5_000, 40_000
# Growth of the peak from 5,000 to 40,000 lines allowed per command. Streaming's peak grows with the run's
# length and levels off (allocator steady state, not results piling up): measured here, idle and with the
# CPU loaded, it added up to 21 MB (embed), 34 MB (predict) and 38 MB (Parquet in and out) at 40,000 lines,
# and only 1 to 5 MB more from 80,000 to 160,000. Holding the results instead adds about 4 KB a line to
# predict (140 MB here; the CLI's in-memory path) and 1.6 KB a line to embed (56 MB: 35,000 x 384 float32
# plus the texts). A 20,000-line version of this test, with margins a third smaller, failed in CI once.
MARGIN_MB = {"embed": 35, "predict": 50, "predict-parquet": 55}


@pytest.fixture(scope="module")
def small_model(tmp_path_factory):
    """The real tokenizer and width (384) on a one-layer random encoder: the memory shape of the real
    thing at a fraction of the compute, so 40,000 texts run in seconds."""
    from transformers import BertConfig, BertModel

    from mtst.encoder import SentenceEncoder, default_encoder_path
    from mtst.model import MultiTaskModel

    folder = tmp_path_factory.mktemp("small") / "encoder"
    source = default_encoder_path()
    config = BertConfig(
        vocab_size=30522,
        hidden_size=384,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=512,
    )
    BertModel(config).save_pretrained(folder)
    for name in ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "vocab.txt"):
        if (source / name).is_file():
            shutil.copyfile(source / name, folder / name)
    return MultiTaskModel(SentenceEncoder(folder, device="cpu")).save(folder.parent / "model")


def lines_file(path, n: int):
    words = "receipt points scan store milk bread coupon reward friend account help total".split()
    path.write_text("".join(f"{words[i % 12]} {words[(i * 7) % 12]} number {i}\n" for i in range(n)))
    return path


def peaks_mb(runs: list[list[str]]) -> list[float]:
    done = subprocess.run(
        [sys.executable, "-c", RUNNER, json.dumps(runs)], capture_output=True, text=True, cwd=ROOT, timeout=600
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return [int(line.split()[1]) / 1024 for line in done.stderr.splitlines() if line.startswith("PEAK_KB")]


def parquet_lines_file(path, n: int):
    """The same texts as lines_file, as a Parquet column read back a record batch at a time."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    texts = lines_file(path.with_suffix(".txt"), n).read_text().splitlines()
    pq.write_table(pa.table({"text": texts}), path, row_group_size=2048)
    return path


@pytest.mark.parametrize(
    "command,source,suffix",
    [("embed", ".txt", ".npy"), ("predict", ".txt", ".jsonl"), ("predict", ".parquet", ".parquet")],
)
def test_peak_memory_does_not_grow_with_the_input(small_model, tmp_path, command, source, suffix):
    make_input = parquet_lines_file if source == ".parquet" else lines_file
    # A small first run loads what any run loads once (lazy imports, caches), so the two measured runs compare
    # like with like.
    runs = [
        [
            command,
            "--model",
            str(small_model),
            "--input",
            str(make_input(tmp_path / f"in{n}{source}", n)),
            "--output",
            str(tmp_path / f"out{n}{suffix}"),
            "--batch-size",
            "256",
        ]
        for n in (100, SMALL, LARGE)
    ]
    _, small, large = peaks_mb(runs)
    for n in (SMALL, LARGE):
        out = tmp_path / f"out{n}{suffix}"
        if command == "embed":
            assert np.load(out, mmap_mode="r").shape == (n, 384)
        elif suffix == ".parquet":
            import pyarrow.parquet as pq

            assert pq.ParquetFile(out).metadata.num_rows == n
        else:
            assert sum(1 for _ in out.open()) == n
    margin = MARGIN_MB[f"{command}-parquet" if source == ".parquet" else command]
    assert large - small < margin, (small, large)
