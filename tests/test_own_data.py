"""A user's own data as they have it: CSV, TSV, JSONL or Parquet, named columns, labels found in the
data, duplicates and conflicts, and every mistake on the way one line with exit status 2."""

import csv
import json
import logging
import sys

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml

from mtst import cli
from mtst.config import config_with_options, load_config
from mtst.data import Columns, check_files, collapse_duplicates, load_records, load_splits, resolve_labels
from mtst.errors import MtstError
from mtst.tasks import TaskSpec

# A made-up intent task: twelve intents nobody lists anywhere, five phrasings each.
TOPICS = {
    "weather": "will it rain in {} tomorrow",
    "music": "play some jazz songs by {}",
    "alarm": "wake me up at six near {}",
    "taxi": "book a cab to {} now",
    "recipe": "how do I cook pasta like they do in {}",
    "flight": "find flights to {} next week",
    "news": "latest headlines from {}",
    "timer": "set a ten minute timer, I am in {}",
    "translate": "how do you say hello in the language of {}",
    "hotel": "a cheap hotel room in {} please",
    "calendar": "what meetings do I have in {} on monday",
    "shopping": "add milk to my list for the shop in {}",
}
PLACES = ["paris", "tokyo", "lima", "oslo", "cairo", "perth"]


def rows(places=PLACES) -> list[dict]:
    return [
        {"text": t.format(p), "category": c, "id": str(i)} for i, (c, t) in enumerate(TOPICS.items()) for p in places
    ]


def write_csv(path, records, columns=("text", "category", "id"), delimiter=","):
    with path.open("w", newline="") as f:
        writer = csv.DictWriter(f, columns, delimiter=delimiter, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(records)
    return path


def run_cli(monkeypatch, capsys, *args) -> tuple[int, str, str]:
    """`mtst ARGS` in this process: (exit status, stdout, stderr)."""
    monkeypatch.setattr(sys, "argv", ["mtst", *args])
    try:
        cli.main()
        status = 0
    except SystemExit as exit_:
        status = exit_.code or 0
    out = capsys.readouterr()
    return status, out.out, out.err


INTENT = [TaskSpec("intent", tuple(sorted(TOPICS)))]
COLUMNS = Columns("text", {"intent": "category"})


def test_every_format_reads_the_same_records(tmp_path):
    records = rows(PLACES[:2])
    records[3]["category"] = ""  # an empty cell: no label
    files = [
        write_csv(tmp_path / "a.csv", records),
        write_csv(tmp_path / "a.tsv", records, delimiter="\t"),
        tmp_path / "a.jsonl",
        tmp_path / "a.parquet",
    ]
    files[2].write_text("".join(json.dumps({k: v for k, v in r.items() if v}) + "\n" for r in records))
    pq.write_table(pa.Table.from_pylist([{**r, "category": r["category"] or None} for r in records]), files[3])
    loaded = [[(r.text, r.labels) for r in load_records([f], INTENT, COLUMNS)] for f in files]
    assert loaded[0] == loaded[1] == loaded[2] == loaded[3]
    assert len(loaded[0]) == len(records) and loaded[0][3][1] == {}
    assert loaded[0][0] == (records[0]["text"], {"intent": records[0]["category"]})


def test_labels_come_from_the_training_file_sorted_one_task_per_label_column(tmp_path):
    records = [{**r, "place": r["text"].split()[-2] if r["category"] == "weather" else ""} for r in reversed(rows())]
    train = write_csv(tmp_path / "train.csv", records, columns=("text", "category", "place"))
    config = resolve_labels(config_with_options(None, train=str(train), label_columns=["intent=category", "place"]))
    assert [(t.name, t.labels, t.labels_from) for t in config.tasks] == [
        ("intent", sorted(TOPICS), str(train)),
        ("place", sorted(PLACES), str(train)),
    ]
    found = load_records([train], config.specs(), Columns("text", {"intent": "category", "place": "place"}))
    assert sum("place" in r.labels for r in found) == len(PLACES)  # empty cells: no label


def test_a_label_only_in_dev_is_an_error_that_names_it(tmp_path):
    train = write_csv(tmp_path / "train.csv", rows())
    dev = write_csv(tmp_path / "dev.csv", [*rows(PLACES[:1]), {"text": "turn on the lights", "category": "lights"}])
    config = resolve_labels(
        config_with_options(None, train=str(train), dev=str(dev), label_columns=["intent=category"])
    )
    with pytest.raises(MtstError) as err:
        load_splits(config)
    message = str(err.value)
    assert message.startswith(f"{dev}:14: intent label 'lights' is not among the labels found in {train}")
    assert "\n" not in message


def test_duplicates_are_dropped_and_conflicts_named_or_settled(tmp_path):
    records = rows(PLACES[:1])
    records += [
        {"text": "  WILL it rain in paris   tomorrow", "category": "weather"},  # same text, same label
        {"text": "book a cab to Paris now", "category": "flight"},  # conflicts with taxi
        {"text": "book a cab to paris now", "category": "flight"},
    ]
    path = write_csv(tmp_path / "train.csv", records)
    found = load_records([path], INTENT, COLUMNS)  # test data: every row kept
    assert len(found) == len(records)
    report = check_files([path], INTENT, COLUMNS)
    assert [p.kind for p in report.problems] == ["conflicting labels"]
    assert report.problems[0].message.startswith(f"{path}:5 and {path}:15: the same text has intent labels 'taxi'")
    assert report.notes[-1].startswith(f"{path}: dropped 1 duplicate row(s)")
    assert f"{path}:14 repeats {path}:2" in report.notes[-1]
    with pytest.raises(MtstError, match="conflicts: first, majority, drop"):
        load_records([path], INTENT, COLUMNS, dedupe=True)
    settled = {}
    for policy in ("first", "majority", "drop"):
        kept = load_records([path], INTENT, COLUMNS, dedupe=True, conflicts=policy)
        settled[policy] = {r.text: r.labels.get("intent") for r in kept}.get("book a cab to paris now")
        assert len(kept) == len(TOPICS) - (policy == "drop")
    assert settled == {"first": "taxi", "majority": "flight", "drop": None}


def test_rows_labelling_different_tasks_merge():
    from mtst.data import Record

    kept, problems, notes = collapse_duplicates(
        [Record("hi there", {"a": "x"}, "f:1"), Record("Hi  there", {"b": "y"}, "f:2")]
    )
    assert problems == [] and [(r.labels, r.where) for r in kept] == [({"a": "x", "b": "y"}, "f:1")]
    assert "dropped 1 duplicate" in notes[0]


def test_data_check_uses_the_columns_and_lists_each_problem_on_its_own_line(tmp_path, monkeypatch, capsys):
    records = rows()
    records += [{"text": "", "category": "weather"} for _ in range(14)]  # 14 empty texts: 3 shown, 11 counted
    records += [
        {"text": "set an alarm for 6", "category": "alarm"},
        {"text": "Set an alarm for 6", "category": "timer"},
    ]
    path = write_csv(tmp_path / "train.csv", records)
    status, out, err = run_cli(
        monkeypatch, capsys, "data", "check", str(path), "--label-column", "intent=category", "--show", "3"
    )
    assert status == 2
    lines = err.strip().splitlines()
    assert sum("'text' is empty" in line for line in lines) == 3
    assert "... and 11 more empty text problem(s)" in lines
    assert sum("the same text has intent labels 'alarm' and 'timer'" in line for line in lines) == 1
    assert lines[-1] == "error: 15 problem(s) found; see the lines above"
    assert f"{len(TOPICS) * len(PLACES) + 1} records in 1 file(s)" in out
    assert "  weather          6" in out.splitlines()
    # Without --label-column every column but the text is a task.
    status, out, _ = run_cli(monkeypatch, capsys, "data", "check", str(write_csv(tmp_path / "ok.csv", rows())))
    assert status == 0 and "category: 72 labelled" in out and "id: 72 labelled" in out


def test_user_mistakes_are_one_line_and_status_2(tmp_path, monkeypatch, capsys):
    train = write_csv(tmp_path / "train.csv", rows())
    out = str(tmp_path / "run")
    base = ["train", "--train", str(train), "--output", out]
    cases = [
        (
            ["--label-column", "intent=label"],
            f"error: {train} has no column 'label' (the task 'intent' column); "
            "its columns are text, category, id; name the right one with --label-column TASK=COLUMN or in the config",
        ),
        (
            ["--label-column", "Category"],
            "error: --label-column 'Category': task name 'Category' must be lower case "
            "letters, digits and underscores; name the task: --label-column category=Category",
        ),
        (
            ["--label-column", "category", "--dev", str(tmp_path / "missing.csv")],
            f"error: {tmp_path}/missing.csv: no such file",
        ),
    ]
    (tmp_path / "broken.parquet").write_bytes(b"not parquet at all")
    cases.append(
        (
            ["--label-column", "category", "--dev", str(tmp_path / "broken.parquet")],
            f"error: {tmp_path}/broken.parquet: not a readable Parquet file",
        )
    )
    (tmp_path / "latin1.csv").write_bytes("text,category\ncaf\xe9 au lait,drink\ntea,drink\n".encode("latin-1"))
    cases.append(
        (
            ["--label-column", "category", "--test", str(tmp_path / "latin1.csv")],
            f"error: {tmp_path}/latin1.csv: not UTF-8 text",
        )
    )
    for extra, expected in cases:
        status, _, err = run_cli(monkeypatch, capsys, *base, *extra)
        assert status == 2, err
        assert err.strip().splitlines()[-1].startswith(expected)
    # Nothing was trained, so no model was left behind.
    assert not (tmp_path / "run" / "heads.safetensors").exists()


def test_a_csv_with_duplicates_gaps_and_unlisted_labels_trains_in_one_command(tmp_path, monkeypatch, capsys, caplog):
    """The issue's HWU64 experience, in small: no conversion script, no label list, one command."""
    train_rows = rows(PLACES[:4])
    train_rows += [{"text": r["text"].upper(), "category": r["category"]} for r in train_rows[:5]]  # duplicates
    train_rows += [{"text": f"something about {p} I forgot to label", "category": ""} for p in PLACES]  # no label
    train = write_csv(tmp_path / "train.csv", train_rows, columns=("text", "category"))
    write_csv(tmp_path / "val.csv", rows(PLACES[4:5]))
    test = write_csv(tmp_path / "test.csv", rows(PLACES[4:]))  # shares every dev text: leakage, not an error
    run = tmp_path / "runs" / "own"
    monkeypatch.chdir(tmp_path)
    caplog.set_level(logging.INFO, logger="mtst")
    status, out, err = run_cli(
        monkeypatch,
        capsys,
        "train",
        "--train",
        "train.csv",
        "--dev",
        "val.csv",
        "--test",
        "test.csv",
        "--text-column",
        "text",
        "--label-column",
        "intent=category",
        "--output",
        "runs/own",
        "--freeze",
        "encoder",
        "--epochs",
        "30",
        "--head-lr",
        "0.05",
        "--quiet",
    )
    assert status == 0, err
    assert "intent" in out and "n=24" in out
    logged = caplog.text
    assert "dropped 5 duplicate row(s)" in logged and f"{train}:50 repeats {train}:2" in logged
    assert "leakage" not in logged  # dev and test share texts with each other, not with train
    tasks = json.loads((run / "tasks.json").read_text())["tasks"]
    assert tasks[0]["name"] == "intent" and tasks[0]["labels"] == sorted(TOPICS)
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["test"]["tasks"]["intent"]["accuracy"] >= 0.75  # 12 intents: chance is 0.08
    saved = yaml.safe_load((run / "config.yaml").read_text())
    assert saved["data"]["train"] == "../../train.csv" and saved["tasks"][0]["column"] == "category"
    assert saved["tasks"][0]["labels"] == sorted(TOPICS)
    # The run's config.yaml trains the same run again, from another working folder.
    monkeypatch.chdir(run)
    again = tmp_path / "again"
    status, _, err = run_cli(monkeypatch, capsys, "train", "--config", "config.yaml", "--output", str(again), "--quiet")
    assert status == 0, err
    assert json.loads((again / "metrics.json").read_text()) == metrics
    assert load_config(again / "config.yaml").data == load_config(run / "config.yaml").data
    # evaluate reads the columns the model was trained on from its run folder
    status, out, err = run_cli(monkeypatch, capsys, "evaluate", "--model", str(run), "--data", str(test), "--json")
    assert status == 0, err
    assert json.loads(out)["tasks"]["intent"]["accuracy"] == metrics["test"]["tasks"]["intent"]["accuracy"]


# 64 intents as HWU64 has them, domain_action, none of them listed anywhere: 8 domains x 8 actions.
DOMAINS = {
    "alarm": "alarm",
    "lights": "living room lights",
    "music": "jazz playlist",
    "calendar": "dentist appointment",
    "email": "email to my boss",
    "shopping": "grocery list",
    "taxi": "ride to the airport",
    "weather": "weather alert",
}
ACTIONS = {
    "set": "set up the {} {}",
    "cancel": "cancel the {} {}",
    "query": "what is the status of the {} {}",
    "change": "change the time of the {} {}",
    "remove": "delete the {} {} for good",
    "repeat": "repeat the {} {} every week",
    "share": "share the {} {} with my sister",
    "pause": "pause the {} {} for an hour",
}
WHEN = ["today", "tonight", "tomorrow morning", "this weekend", "right now", "on friday"]


def test_sixty_four_unlisted_intents_with_duplicates_and_gaps_train_in_one_command(tmp_path, monkeypatch, capsys):
    """The issue's case at its size: a CSV with 64 intents nobody lists, repeated rows and empty label cells."""
    records = [
        {"text": ACTIONS[a].format(DOMAINS[d], w), "category": f"{d}_{a}"}
        for d in DOMAINS
        for a in ACTIONS
        for w in WHEN
    ]
    train_rows = [r for i, r in enumerate(records) if i % 6 < 4]
    train_rows += [{"text": r["text"].upper(), "category": r["category"]} for r in train_rows[:20]]  # duplicates
    train_rows += [{"text": f"the {d} thing again", "category": ""} for d in DOMAINS]  # no label
    write_csv(tmp_path / "train.csv", train_rows, columns=("text", "category"))
    write_csv(tmp_path / "test.csv", [r for i, r in enumerate(records) if i % 6 >= 4], columns=("text", "category"))
    monkeypatch.chdir(tmp_path)
    status, _, err = run_cli(
        monkeypatch, capsys,
        "train", "--train", "train.csv", "--test", "test.csv", "--label-column", "intent=category",
        "--output", "run", "--freeze", "encoder", "--epochs", "40", "--head-lr", "0.05", "--quiet",
    )  # fmt: skip
    assert status == 0, err
    tasks = json.loads((tmp_path / "run" / "tasks.json").read_text())["tasks"]
    assert tasks[0]["labels"] == sorted({r["category"] for r in records}) and len(tasks[0]["labels"]) == 64
    accuracy = json.loads((tmp_path / "run" / "metrics.json").read_text())["test"]["tasks"]["intent"]["accuracy"]
    assert accuracy >= 0.9, accuracy  # chance is 1 in 64; measured 1.0


def test_data_check_with_a_config_checks_its_files_with_its_tasks(tmp_path, monkeypatch, capsys):
    """The user's task, not the default three: labels from the config's training file, dev checked against them."""
    write_csv(tmp_path / "train.csv", rows())
    write_csv(tmp_path / "dev.csv", [*rows(PLACES[:1]), {"text": "turn on the lights", "category": "lights"}])
    config = tmp_path / "own.yaml"
    config.write_text(
        yaml.safe_dump(
            {"tasks": [{"name": "intent", "column": "category"}], "data": {"train": "train.csv", "dev": "dev.csv"}}
        )
    )
    monkeypatch.chdir("/")  # the config's paths are from its own folder
    status, out, err = run_cli(monkeypatch, capsys, "data", "check", "--config", str(config))
    assert status == 2
    problems = [line for line in err.splitlines() if not line.startswith(("note:", "warning:", "error:"))]
    assert problems == [
        f"{tmp_path}/dev.csv:14: intent label 'lights' is not among the labels found in {tmp_path}/train.csv "
        "(alarm, calendar, flight, hotel, music, news, recipe, shopping, ... (12 in all))"
    ]
    assert "leakage: 12 text(s)" in err
    assert "85 records in 2 file(s)" in out and "intent: 84 labelled" in out  # the bad row has no label
