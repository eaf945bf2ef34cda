"""docs/own-task.md, run as written: check, train (frozen encoder), evaluate, serve one request and
predict a Parquet file, on the first rows of SNIPS (the commands are read from the walkthrough)."""

import json
import os
import re
import shlex
import subprocess
import sys

import httpx
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import ROOT, SHARED_DATASETS
from test_server_helpers import free_port, wait_healthy

from mtst import cli
from mtst.data import duplicate_key

SNIPS = SHARED_DATASETS / "snips"
WALKTHROUGH = ROOT / "docs" / "own-task.md"
ROWS = {"train": 400, "valid": 100, "test": 100}  # the first rows of each split: a run of seconds
INTENTS = [
    "AddToPlaylist",
    "BookRestaurant",
    "GetWeather",
    "PlayMusic",
    "RateBook",
    "SearchCreativeWork",
    "SearchScreeningEvent",
]

pytestmark = pytest.mark.skipif(
    not SNIPS.is_dir(), reason=f"SNIPS is not at {SNIPS} (public datasets go in ../shared/datasets or MTST_DATASETS)"
)


def walkthrough_commands() -> list[str]:
    """The `mtst` and `curl` lines of the walkthrough's bash blocks, in order."""
    blocks = re.findall(r"```bash\n(.*?)```", WALKTHROUGH.read_text(), re.S)
    return [line.strip() for block in blocks for line in block.splitlines() if line.startswith(("mtst ", "curl "))]


def write_subset(folder, split: str, rows: int) -> None:
    """What the walkthrough's `paste` line makes (a header, then text TAB label), for the first rows."""
    texts = (SNIPS / split / "seq.in").read_text(encoding="utf-8").splitlines()[:rows]
    labels = (SNIPS / split / "label").read_text(encoding="utf-8").splitlines()[:rows]
    lines = ["text\tintent"] + [f"{t}\t{label}" for t, label in zip(texts, labels, strict=True)]
    (folder / f"{split}.tsv").write_text("\n".join(lines) + "\n", encoding="utf-8")


def environment() -> dict[str, str]:
    """For `mtst serve`: the test's environment (its embedding cache), the checkout's own mtst from any folder."""
    return {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), *sys.path])}


def mtst(command: str, monkeypatch, capsys) -> tuple[str, str]:
    """Run a walkthrough command in this process (one interpreter start-up for all): (stdout, stderr)."""
    args = shlex.split(command)
    assert args[0] == "mtst"
    monkeypatch.setattr(sys, "argv", args)
    try:
        cli.main()
    except SystemExit as exit_:
        assert not exit_.code, f"{command}: {capsys.readouterr().err[-3000:]}"
    out = capsys.readouterr()
    return out.out, out.err


def test_the_walkthrough_runs_as_written(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    commands = walkthrough_commands()
    verbs = [c.split()[1] if c.startswith("mtst ") else "curl" for c in commands]
    assert verbs == ["data", "train", "train", "serve", "curl", "evaluate", "predict"]
    (tmp_path / "snips").mkdir()
    for split, rows in ROWS.items():
        write_subset(tmp_path / "snips", split, rows)
    check, train, again, serve, curl, evaluate, predict = commands
    assert "--freeze" not in train  # the walkthrough trains the default: the frozen encoder

    out, _ = mtst(check, monkeypatch, capsys)
    distinct = 0  # texts per file, ignoring case and spacing: repeats within a file are dropped
    for split in ROWS:
        lines = (tmp_path / "snips" / f"{split}.tsv").read_text().splitlines()[1:]
        distinct += len({duplicate_key(line.split("\t")[0]) for line in lines})
    assert f"{distinct} records in 3 file(s)" in out
    assert f"intent: {distinct} labelled" in out and all(label in out for label in INTENTS)

    out, _ = mtst(train, monkeypatch, capsys)
    assert "test metrics" in out
    run = tmp_path / "runs" / "snips"
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["test"]["tasks"]["intent"]["n"] == ROWS["test"]  # test rows are scored as given
    assert metrics["test"]["tasks"]["intent"]["accuracy"] >= 0.7  # 7 intents: chance is 0.14
    assert json.loads((run / "tasks.json").read_text())["tasks"][0]["labels"] == INTENTS
    mtst(again, monkeypatch, capsys)  # the run's config.yaml trains the same model again
    assert json.loads((tmp_path / "runs" / "snips-again" / "metrics.json").read_text()) == metrics

    out, _ = mtst(evaluate, monkeypatch, capsys)
    accuracy = float(re.search(r"intent: accuracy ([0-9.]+)", out).group(1))
    assert accuracy == pytest.approx(metrics["test"]["tasks"]["intent"]["accuracy"], abs=1e-4)

    texts = [line.split("\t")[0] for line in (tmp_path / "snips" / "test.tsv").read_text().splitlines()[1:31]]
    pq.write_table(pa.table({"text": texts}), tmp_path / "new.parquet")
    mtst(predict, monkeypatch, capsys)
    rows = [json.loads(line) for line in (tmp_path / "predictions.jsonl").read_text().splitlines()]
    assert [r["text"] for r in rows] == texts and all(r["intent"]["label"] in INTENTS for r in rows)

    port = str(free_port())
    args = shlex.split(serve.replace("8000", port))
    server = subprocess.Popen(
        [sys.executable, "-m", "mtst", *args[1:]],
        cwd=tmp_path,
        env=environment(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        wait_healthy(url, timeout=180, proc=server)
        curl_args = shlex.split(curl)
        body = json.loads(curl_args[curl_args.index("-d") + 1])
        path = next(a for a in curl_args if a.startswith("localhost:8000")).removeprefix("localhost:8000")
        response = httpx.post(url + path, json=body, timeout=60)
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert response.status_code == 200, response.text
    assert response.json()["results"][0]["predictions"]["intent"]["label"] == "GetWeather"
