"""Batch scoring on Ray Data: a local cluster of 2 CPUs started here, the tiny model, real Parquet and JSONL files.

The answers must be the one-process answers (labels identical, probabilities within 1e-6) whatever the
number of actors, rows must come out once each with their ids beside their texts (matched by text: Ray keeps
input order only as far as its preserve_order does), and an actor killed mid-job must be retried by Ray
without losing or repeating a row.
"""

import json
import os
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import ROOT
from typer.testing import CliRunner

from mtst.errors import MtstError
from mtst.ray_predict import Scorer, import_ray, input_files, predict_ray
from mtst.tasks import DEFAULT_TASKS

ray = pytest.importorskip("ray", reason="the ray extra is not installed: pip install 'mtst[ray]'")

TASKS = [t.name for t in DEFAULT_TASKS]
WORDS = "receipt points scan store milk bread coupon reward friend account help total tax bonus code".split()
FILES, ROWS = 3, 40  # 120 texts in 3 files


@pytest.fixture(scope="module")
def cluster():
    # Actors import mtst and this module (the test's scorer) from the same folders as the tests do.
    paths = os.pathsep.join([str(ROOT / "src"), str(ROOT / "tests"), os.environ.get("PYTHONPATH", "")])
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, runtime_env={"env_vars": {"PYTHONPATH": paths}})
    yield
    ray.shutdown()


def texts(n: int) -> list[str]:
    return [" ".join(WORDS[(i * 5 + k) % len(WORDS)] for k in range(1 + i % 9)) + f" {i}" for i in range(n)]


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> dict:
    """The same texts as 3 Parquet files (column `body`, ids `doc`) and as 3 JSONL files (column `text`)."""
    folder = tmp_path_factory.mktemp("inputs")
    (folder / "parquet").mkdir()
    (folder / "jsonl").mkdir()
    all_texts = texts(FILES * ROWS)
    ids = [f"doc-{i:04d}" for i in range(len(all_texts))]
    for f in range(FILES):
        part = slice(f * ROWS, (f + 1) * ROWS)
        pq.write_table(pa.table({"doc": ids[part], "body": all_texts[part]}), folder / "parquet" / f"in-{f}.parquet")
        with open(folder / "jsonl" / f"in-{f}.jsonl", "w") as out:
            out.writelines(json.dumps({"text": t}) + "\n" for t in all_texts[part])
    (folder / "all.jsonl").write_text("".join(json.dumps({"text": t}) + "\n" for t in all_texts))
    return {"folder": folder, "texts": all_texts, "ids": ids}


@pytest.fixture(scope="module")
def one_process(tiny_model_dir, inputs, tmp_path_factory) -> pa.Table:
    """The one-process answers: `mtst predict`'s Parquet path over the same texts."""
    from mtst.model import MultiTaskModel
    from mtst.prediction_io import predict_stream

    out = tmp_path_factory.mktemp("local") / "out.parquet"
    predict_stream(MultiTaskModel.load(tiny_model_dir), inputs["folder"] / "all.jsonl", out, TASKS, embeddings=True)
    return pq.read_table(out)


@pytest.fixture(scope="module")
def onnx_dir(tiny_model_dir, tmp_path_factory) -> Path:
    """The tiny model exported to ONNX: actors that start without torch."""
    from mtst.export import export_onnx

    return export_onnx(tiny_model_dir, tmp_path_factory.mktemp("onnx") / "export")


def read_parts(folder: Path, suffix: str = "parquet") -> list[dict]:
    parts = sorted(folder.glob(f"part-*.{suffix}"))
    assert parts, f"no part files in {folder}"
    if suffix == "parquet":
        return pa.concat_tables([pq.read_table(p) for p in parts]).to_pylist()
    return [json.loads(line) for p in parts for line in p.read_text().splitlines()]


def by_text(rows: list[dict], reference: list[dict]) -> list[dict]:
    """The rows in the reference's order, matched by text (unique here): Ray keeps input order only as far as
    its preserve_order does, which under load has swapped two neighbouring blocks."""
    assert sorted(r["text"] for r in rows) == sorted(r["text"] for r in reference)  # every row exactly once
    found = {r["text"]: r for r in rows}
    return [found[r["text"]] for r in reference]


def assert_same_answers(rows: list[dict], reference: list[dict], tasks=TASKS) -> None:
    rows = by_text(rows, reference)
    for task in tasks:
        assert [r[task]["label"] for r in rows] == [r[task]["label"] for r in reference], task
        for row, ref in zip(rows, reference, strict=True):
            assert list(row[task]["probabilities"]) == list(ref[task]["probabilities"])
            for label, p in ref[task]["probabilities"].items():
                assert abs(row[task]["probabilities"][label] - p) <= 1e-6, (task, label)


class SaysWhichActor(Scorer):
    """Adds the scoring process's id to each row, to see that the work was shared."""

    def __call__(self, batch):
        table = super().__call__(batch)
        return table.append_column("pid", pa.array([os.getpid()] * table.num_rows))


def test_ray_answers_equal_one_process_with_ids_and_embeddings(cluster, tiny_model_dir, inputs, one_process, tmp_path):
    """2 actors over 3 Parquet files, 15 rows a batch: the one-process answers, ids beside their texts."""
    out = predict_ray(
        tiny_model_dir,
        str(inputs["folder"] / "parquet" / "in-*.parquet"),
        tmp_path / "out",
        text_column="body",
        id_column="doc",
        embeddings=True,
        actors=2,
        rows_per_batch=15,
        batch_size=8,
        scorer=SaysWhichActor,
    )
    rows = read_parts(out)
    assert list(rows[0]) == ["doc", "text", *TASKS, "embedding", "pid"]
    assert len({r["pid"] for r in rows}) == 2  # both actors scored
    assert {r["doc"]: r["text"] for r in rows} == dict(zip(inputs["ids"], inputs["texts"], strict=True))
    reference = one_process.to_pylist()
    assert_same_answers(rows, reference)
    import numpy as np

    rows = by_text(rows, reference)
    embeddings = np.array([r["embedding"] for r in rows]) - np.array([r["embedding"] for r in reference])
    assert np.abs(embeddings).max() < 1e-5


class DiesOnce(Scorer):
    """Kills its own process on its first batch of the job, once: a marker file beside the model says it did."""

    def __init__(self, model: str, **kwargs) -> None:
        super().__init__(model, **kwargs)
        self.marker = Path(model).with_name("killed-once")

    def __call__(self, batch):
        try:
            os.close(os.open(self.marker, os.O_CREAT | os.O_EXCL))
        except FileExistsError:
            return super().__call__(batch)
        os._exit(1)  # no cleanup, no exception: as if the node lost the process


def test_an_actor_killed_mid_job_is_retried_and_every_row_appears_once(
    cluster, tiny_model_dir, inputs, one_process, tmp_path
):
    marker = tiny_model_dir.with_name("killed-once")
    assert not marker.exists()
    out = predict_ray(
        tiny_model_dir,
        inputs["folder"] / "parquet",  # a folder: every .parquet file in it, in name order
        tmp_path / "out",
        text_column="body",
        actors=1,
        rows_per_batch=30,
        batch_size=8,
        max_restarts=2,
        scorer=DiesOnce,
    )
    assert marker.exists()  # the actor did die, on a batch that was then scored again
    assert_same_answers(read_parts(out), one_process.to_pylist())


def test_cli_ray_engine_with_onnx_and_jsonl(cluster, onnx_dir, inputs, tmp_path):
    """`mtst predict --engine ray --backend onnx`: JSONL in and out, the answers of the one-process ONNX run."""
    from mtst.cli import app

    local = tmp_path / "local.jsonl"
    common = ["predict", "--model", str(onnx_dir), "--backend", "onnx", "--tasks", "sentence_type,query_intent"]
    runner = CliRunner()
    done = runner.invoke(app, [*common, "--input", str(inputs["folder"] / "all.jsonl"), "--output", str(local)])
    assert done.exit_code == 0, done.output
    args = ["--engine", "ray", "--actors", "2", "--chunk-size", "25", "--output-format", "jsonl"]
    pattern = str(inputs["folder"] / "jsonl" / "in-*.jsonl")
    done = runner.invoke(app, [*common, *args, "--input", pattern, "--output", str(tmp_path / "out")])
    assert done.exit_code == 0, done.output
    reference = [json.loads(line) for line in local.read_text().splitlines()]
    assert [r["text"] for r in reference] == inputs["texts"]
    rows = by_text(read_parts(tmp_path / "out", "jsonl"), reference)
    for task in ("sentence_type", "query_intent"):
        assert [r[task]["label"] for r in rows] == [r[task]["label"] for r in reference]
        assert max(abs(r[task]["score"] - ref[task]["score"]) for r, ref in zip(rows, reference, strict=True)) <= 1e-6
    assert "receipt_quality" not in rows[0]


def test_mistakes_are_one_line_errors_before_any_actor_starts(tiny_model_dir, inputs, tmp_path):
    parquet, jsonl = str(inputs["folder"] / "parquet" / "*.parquet"), str(inputs["folder"] / "jsonl" / "*.jsonl")
    with pytest.raises(MtstError, match="no input files found"):
        input_files(str(tmp_path / "nothing-*.parquet"))
    with pytest.raises(MtstError, match="mixes Parquet and JSONL"):
        input_files(str(inputs["folder"] / "*" / "in-0.*"))
    with pytest.raises(MtstError, match="no column 'text'.*doc, body.*--text-column"):
        predict_ray(tiny_model_dir, parquet, tmp_path / "a")
    with pytest.raises(MtstError, match="no column 'nope'.*--id-column"):
        predict_ray(tiny_model_dir, parquet, tmp_path / "a", text_column="body", id_column="nope")
    with pytest.raises(MtstError, match="unknown task"):
        predict_ray(tiny_model_dir, jsonl, tmp_path / "a", tasks=["colour"])
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "old.parquet").write_text("x")
    with pytest.raises(MtstError, match="not an empty folder"):
        predict_ray(tiny_model_dir, jsonl, tmp_path / "full")
    with pytest.raises(MtstError, match="not an mtst model folder"):
        predict_ray(tmp_path, jsonl, tmp_path / "b")


def test_without_ray_installed_the_error_says_how_to_get_it(monkeypatch):
    monkeypatch.setitem(__import__("sys").modules, "ray", None)
    with pytest.raises(MtstError, match=r"pip install 'mtst\[ray\]'"):
        import_ray()


def test_a_row_without_text_stops_the_job_with_one_line_naming_it(cluster, onnx_dir, tmp_path):
    rows = [{"id": "a", "text": "bonus points"}, {"id": "b", "text": "  "}, {"id": "c", "text": "milk"}]
    (tmp_path / "in.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    with pytest.raises(MtstError) as caught:
        predict_ray(onnx_dir, tmp_path / "in.jsonl", tmp_path / "out", id_column="id", actors=1, backend="onnx")
    assert str(caught.value) == "the row with id='b' has no text in 'text' (got '  '); fill or drop it"
