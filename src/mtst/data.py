"""Labelled records from the user's files, checked: the same code for `mtst data check` and training.

A file is CSV, TSV, JSON lines or Parquet (`mtst.tables`); `Columns` says which column holds the
text and which holds each task's label. An empty cell means "no label for this task", the same as
a missing key. Within a training file, rows whose texts match ignoring case and spacing are one
text: repeats with the same labels are dropped (and counted), different labels are a conflict,
an error naming both lines unless a policy (`first`, `majority`, `drop`) settles it. A text shared
by training and dev or test data is reported as leakage. A file that passes the check trains.
"""

import logging
import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np

from mtst.errors import MtstError
from mtst.tables import iter_rows, read_columns
from mtst.tasks import DEFAULT_TASKS, TaskSpec

if TYPE_CHECKING:
    from mtst.config import TrainConfig

log = logging.getLogger("mtst")

IGNORE_INDEX = -100  # a missing label: masked out of that task's loss, never guessed
SHOWN_PER_KIND = 10  # `mtst data check` lists this many problems of each kind, then a count
EXAMPLES = 3  # duplicates and leakage: how many examples a summary line names
ConflictPolicy = Literal["error", "first", "majority", "drop"]


@dataclass
class Record:
    text: str
    labels: dict[str, str]
    where: str  # "file:line", for messages


@dataclass(frozen=True)
class Columns:
    """Which column (JSON key) holds the text, and which holds each task's label."""

    text: str = "text"
    labels: dict[str, str] = field(default_factory=dict)  # task name -> column

    @classmethod
    def for_tasks(cls, tasks: Iterable[TaskSpec], text: str = "text", columns: dict[str, str] | None = None):
        """Each task's label in the column of its own name, unless `columns` says otherwise."""
        columns = columns or {}
        return cls(text, {t.name: columns.get(t.name, t.name) for t in tasks})


@dataclass
class Problem:
    kind: str  # what went wrong, e.g. "unknown label": `mtst data check` lists each kind apart
    message: str  # "file:line: what is wrong"


@dataclass
class CheckReport:
    records: list[Record] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # dropped duplicates, leakage, unused columns

    @property
    def errors(self) -> list[str]:
        return [p.message for p in self.problems]

    def counts(self, tasks: Sequence[TaskSpec]) -> dict[str, Counter]:
        """Label counts per task, in the task's label order."""
        result = {}
        for spec in tasks:
            found = Counter(r.labels[spec.name] for r in self.records if spec.name in r.labels)
            result[spec.name] = Counter({label: found[label] for label in spec.labels})
        return result


def duplicate_key(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().lower()


def _short(text: str) -> str:
    return repr(text[:60] + ("..." if len(text) > 60 else ""))


def _preview(labels: Sequence[str], limit: int = 8) -> str:
    shown = ", ".join(labels[:limit])
    return shown + (f", ... ({len(labels)} in all)" if len(labels) > limit else "")


# --- one file ------------------------------------------------------------------------------------


def _check_columns(path: Path, columns: Columns) -> None:
    """A CSV, TSV or Parquet file must have every named column; the message lists the ones it has."""
    names = read_columns(path)
    if names is None:
        return
    wanted = [("text", columns.text)] + [(f"task {t!r}", c) for t, c in columns.labels.items()]
    for role, column in wanted:
        if column not in names:
            hint = "--text-column" if role == "text" else "--label-column TASK=COLUMN"
            raise MtstError(
                f"{path} has no column {column!r} (the {role} column); its columns are {', '.join(names)}; "
                f"name the right one with {hint} or in the config"
            )


def _label_value(value) -> str | None:
    """A cell as a label: None for an empty cell (no label), else its text."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, bool | int | float):
        return str(value)
    if isinstance(value, str):
        return value.strip() or None
    raise ValueError(f"a label must be a string or a number, got {type(value).__name__}")


def read_file(
    path: str | Path,
    columns: Columns,
    tasks: dict[str, TaskSpec] | None = None,
    label_source: dict[str, str] | None = None,
) -> tuple[list[Record], list[Problem], list[str]]:
    """One file's records, its problems (file, line, value), and notes such as unused columns.

    With `tasks`, every label must be one of its task's labels (`label_source` says, per task, where
    those came from, for the message); without, any label is taken (to find the labels).
    """
    path = Path(path)
    _check_columns(path, columns)
    records: list[Record] = []
    problems: list[Problem] = []
    seen_columns: set[str] = set()
    wanted = [columns.text, *columns.labels.values()]
    for row in iter_rows(path, wanted):
        if row.problem is not None:
            problems.append(Problem("unreadable row", f"{row.where}: {row.problem}"))
            continue
        seen_columns.update(row.cells)
        text = row.cells.get(columns.text)
        if not isinstance(text, str):
            problems.append(Problem("missing text", f"{row.where}: {columns.text!r} must be a string, got {text!r}"))
            continue
        if not text.strip():
            problems.append(Problem("empty text", f"{row.where}: {columns.text!r} is empty"))
            continue
        labels: dict[str, str] = {}
        for task, column in columns.labels.items():
            try:
                value = _label_value(row.cells.get(column))
            except ValueError as err:
                problems.append(Problem("bad label", f"{row.where}: column {column!r}: {err}"))
                continue
            if value is None:
                continue
            spec = (tasks or {}).get(task)
            if spec is not None and value not in spec.labels:
                source = (label_source or {}).get(task, f"task {task}'s labels")
                problems.append(
                    Problem(
                        "unknown label",
                        f"{row.where}: {task} label {value!r} is not among {source} ({_preview(spec.labels)})",
                    )
                )
                continue
            labels[task] = value
        records.append(Record(text, labels, row.where))
    notes = []
    unused = sorted(seen_columns - set(wanted))
    if unused:
        notes.append(
            f"{path}: columns not used: {', '.join(unused)} (text: {columns.text!r}; labels: "
            f"{', '.join(f'{t}={c}' for t, c in columns.labels.items()) or 'none'})"
        )
    if not records and not problems:
        problems.append(Problem("no records", f"{path}: no records found"))
    return records, problems, notes


# --- duplicates and leakage ----------------------------------------------------------------------


def collapse_duplicates(
    records: Sequence[Record], policy: ConflictPolicy = "error"
) -> tuple[list[Record], list[Problem], list[str]]:
    """One record per text (ignoring case and spacing), at its first line; conflicts settled by `policy`.

    Repeats that agree (or label different tasks) merge into the first. Rows that give one task
    different labels are a problem naming both lines, unless the policy keeps the first line's
    label, the most frequent one (ties: the first seen), or drops that task's label.
    """
    groups: dict[str, list[Record]] = {}
    for record in records:
        groups.setdefault(duplicate_key(record.text), []).append(record)
    kept, problems, repeats, settled = [], [], [], []
    for group in groups.values():
        first = group[0]
        labels: dict[str, str] = {}
        conflicted = False
        for task in dict.fromkeys(t for r in group for t in r.labels):
            rows = [r for r in group if task in r.labels]
            values = [r.labels[task] for r in rows]
            if len(set(values)) == 1:
                labels[task] = values[0]
                continue
            conflicted = True
            if policy == "error":
                other = next(r for r in rows if r.labels[task] != values[0])
                problems.append(
                    Problem(
                        "conflicting labels",
                        f"{rows[0].where} and {other.where}: the same text has {task} labels {values[0]!r} and "
                        f"{other.labels[task]!r}: {_short(first.text)}; fix one, or choose a policy "
                        f"(data.conflicts or --conflicts: first, majority, drop)",
                    )
                )
                labels[task] = values[0]
            elif policy == "first":
                labels[task] = values[0]
            elif policy == "majority":
                counts = Counter(values)
                labels[task] = max(dict.fromkeys(values), key=lambda v: counts[v])
            # "drop": the task stays unlabelled for this text
        if conflicted:
            settled.append(first)
        elif len(group) > 1:
            repeats += [(r, first) for r in group[1:]]
        if labels or policy != "drop":
            kept.append(Record(first.text, labels, first.where))
    notes = []
    if repeats:
        examples = "; ".join(f"{r.where} repeats {f.where} {_short(r.text)}" for r, f in repeats[:EXAMPLES])
        notes.append(
            f"dropped {len(repeats)} duplicate row(s) (same text ignoring case and spacing, same labels), "
            f"e.g. {examples}"
        )
    if settled and policy != "error":
        examples = "; ".join(f"{r.where} {_short(r.text)}" for r in settled[:EXAMPLES])
        notes.append(f"settled {len(settled)} text(s) with conflicting labels by policy {policy!r}, e.g. {examples}")
    return kept, problems, notes


def leakage_note(reference: Sequence[Record], other: Sequence[Record], ref_name: str, other_name: str) -> str | None:
    """A warning when texts of `other` (dev or test data) also appear in `reference` (training data)."""
    where = {duplicate_key(r.text): r.where for r in reference}
    shared = [(r, where[duplicate_key(r.text)]) for r in other if duplicate_key(r.text) in where]
    if not shared:
        return None
    examples = "; ".join(f"{r.where} = {w}" for r, w in shared[:EXAMPLES])
    return (
        f"leakage: {len(shared)} text(s) of {other_name} also appear in {ref_name} (ignoring case and spacing); "
        f"scores on {other_name} will be optimistic, e.g. {examples}"
    )


# --- tasks and labels from the data --------------------------------------------------------------


def labels_in_files(paths: Sequence[str | Path], columns: Columns) -> dict[str, list[str]]:
    """Each task's labels as found in the files, sorted."""
    found: dict[str, set[str]] = {task: set() for task in columns.labels}
    for path in paths:
        records, _, _ = read_file(path, columns)
        for record in records:
            for task, label in record.labels.items():
                found[task].add(label)
    return {task: sorted(labels) for task, labels in found.items()}


def specs_from_labels(labels: dict[str, list[str]], columns: Columns, where: str) -> list[TaskSpec]:
    """Task specs whose labels were found in the data; a task needs at least two."""
    specs = []
    for task, found in labels.items():
        if len(found) < 2:
            raise MtstError(
                f"task {task!r}: column {columns.labels[task]!r} of {where} has "
                f"{'only the label ' + repr(found[0]) if found else 'no labels'}; a task needs at least two"
            )
        specs.append(TaskSpec(task, tuple(found)))
    return specs


def infer_columns(paths: Sequence[str | Path], text: str = "text") -> Columns:
    """Every column but the text column is a task of its own name (CSV/TSV/Parquet header, or JSON keys)."""
    names: dict[str, None] = {}
    for path in paths:
        header = read_columns(path)
        if header is None:  # JSON lines: the keys of every line
            header = [key for row in iter_rows(path) if row.problem is None for key in row.cells]
        names.update(dict.fromkeys(header))
    if text not in names:
        raise MtstError(
            f"no column {text!r} in {', '.join(map(str, paths))} (columns: {', '.join(names)}); "
            f"name the text column with --text-column"
        )
    return Columns(text, {name: name for name in names if name != text})


def infer_tasks(paths: Sequence[str | Path], columns: Columns) -> list[TaskSpec]:
    """The tasks of `columns` with labels from the files; the labelling guide's tasks keep the guide's labels."""
    defaults = {t.name: t for t in DEFAULT_TASKS}
    unknown = Columns(columns.text, {t: c for t, c in columns.labels.items() if t not in defaults})
    found = specs_from_labels(labels_in_files(paths, unknown), unknown, ", ".join(map(str, paths)))
    by_name = {s.name: s for s in found}
    return [defaults.get(task) or by_name[task] for task in columns.labels]


# --- checking and loading ------------------------------------------------------------------------


def check_files(
    paths: Sequence[str | Path],
    tasks: Sequence[TaskSpec],
    columns: Columns | None = None,
    conflicts: ConflictPolicy = "error",
    label_source: dict[str, str] | None = None,
) -> CheckReport:
    """Read every file, collecting all problems rather than stopping at the first.

    Duplicates are collapsed within each file; a text in a later file that is also in an earlier
    one is noted as leakage (pass the training file first).
    """
    columns = columns or Columns.for_tasks(tasks)
    by_name = {spec.name: spec for spec in tasks}
    report = CheckReport()
    earlier: list[tuple[str, list[Record]]] = []
    for path in map(Path, paths):
        try:
            records, problems, notes = read_file(path, columns, by_name, label_source)
        except MtstError as err:
            report.problems.append(Problem("unreadable file", str(err)))
            continue
        records, conflict_problems, dedupe_notes = collapse_duplicates(records, conflicts)
        report.problems += problems + conflict_problems
        report.notes += notes + [f"{path}: {n}" for n in dedupe_notes]
        for name, previous in earlier:
            note = leakage_note(previous, records, name, str(path))
            if note:
                report.notes.append(note)
        earlier.append((str(path), records))
        report.records += records
    return report


def one_line(problems: Sequence[Problem], hint: str = "") -> str:
    """The first problem, and how many more: a message that fits on one line."""
    more = f" (and {len(problems) - 1} more problem(s){hint})" if len(problems) > 1 else ""
    return problems[0].message + more


def load_records(
    paths: Sequence[str | Path],
    tasks: Sequence[TaskSpec],
    columns: Columns | None = None,
    dedupe: bool = False,
    conflicts: ConflictPolicy = "error",
    label_source: dict[str, str] | None = None,
) -> list[Record]:
    """The records of one or more files, or a one-line MtstError naming the first problem.

    `dedupe` collapses duplicate texts (training data); without it every row is kept (test data is
    scored as it is given).
    """
    columns = columns or Columns.for_tasks(tasks)
    by_name = {spec.name: spec for spec in tasks}
    records, problems = [], []
    for path in paths:
        found, bad, notes = read_file(path, columns, by_name, label_source)
        for note in notes:
            log.info(note)
        if dedupe:
            found, conflicting, notes = collapse_duplicates(found, conflicts)
            bad += conflicting
            for note in notes:
                log.info("%s: %s", path, note)
        records += found
        problems += bad
    if problems:
        files = " ".join(map(str, paths))
        raise MtstError(one_line(problems, f"; `mtst data check {files}` lists them all"))
    return records


# --- a training config's data --------------------------------------------------------------------


def config_columns(config: "TrainConfig") -> Columns:
    return Columns(config.data.text_column, {t.name: t.column or t.name for t in config.tasks})


def resolve_labels(config: "TrainConfig") -> "TrainConfig":
    """The config with every task's labels: those it lists, or those its training file has, sorted."""
    missing = [t.name for t in config.tasks if not t.labels]
    if not missing:
        return config
    columns = config_columns(config)
    wanted = Columns(columns.text, {t: columns.labels[t] for t in missing})
    specs = {
        s.name: s for s in specs_from_labels(labels_in_files([config.data.train], wanted), wanted, config.data.train)
    }
    resolved = config.model_copy(deep=True)
    for task in resolved.tasks:
        if task.name in specs:
            task.labels = list(specs[task.name].labels)
            task.labels_from = config.data.train
    log.info(
        "labels from %s: %s",
        config.data.train,
        "; ".join(f"{n}: {len(specs[n].labels)} ({_preview(specs[n].labels, 5)})" for n in missing),
    )
    return resolved


def load_splits(config: "TrainConfig") -> tuple[list[Record], list[Record] | None, list[Record] | None]:
    """A config's train, dev (None: split it from train) and test records, checked.

    Training and dev data are deduplicated; test data is kept as given. Texts that dev or test
    share with training data are logged as leakage.
    """
    d = config.data
    tasks = config.specs()
    columns = config_columns(config)
    source = {
        t.name: f"the labels found in {t.labels_from}" if t.labels_from else "the labels the config lists"
        for t in config.tasks
    }

    def load(path, dedupe):
        return load_records([path], tasks, columns, dedupe=dedupe, conflicts=d.conflicts, label_source=source)

    train = load(d.train, True)
    dev = load(d.dev, True) if d.dev else None
    test = load(d.test, False) if d.test else None
    for name, other in ((d.dev, dev), (d.test, test)):
        note = leakage_note(train, other, d.train, name) if other else None
        if note:
            log.warning(note)
    return train, dev, test


def label_matrix(records: Sequence[Record], tasks: Sequence[TaskSpec]) -> dict[str, np.ndarray]:
    """Per task, each record's label index, or IGNORE_INDEX where the record is not labelled for it."""
    return {
        spec.name: np.array(
            [spec.index(r.labels[spec.name]) if spec.name in r.labels else IGNORE_INDEX for r in records],
            dtype=np.int64,
        )
        for spec in tasks
    }


def stratified_split(records: Sequence[Record], fraction: float, seed: int) -> tuple[list[Record], list[Record]]:
    """A seeded split that keeps each label combination's share in both parts (for dev data)."""
    from sklearn.model_selection import train_test_split

    if not 0 < fraction < 1:
        raise MtstError(f"dev fraction must be between 0 and 1, got {fraction}")
    keys = ["|".join(f"{k}={v}" for k, v in sorted(r.labels.items())) for r in records]
    counts = Counter(keys)
    keys = [k if counts[k] >= 2 else "rare" for k in keys]
    try:
        train, dev = train_test_split(list(records), test_size=fraction, random_state=seed, stratify=keys)
    except ValueError:  # too few records per label combination to stratify: a plain seeded split
        train, dev = train_test_split(list(records), test_size=fraction, random_state=seed)
    return train, dev


def model_columns(
    folder: str | Path, tasks: Sequence[TaskSpec], text_column: str | None, label_columns: Sequence[str] | None
) -> Columns:
    """The columns to read a model's tasks from: as given, else those of the run that trained it
    (its config.yaml), else the task names and 'text'."""
    from mtst.config import parse_label_column

    text, by_task = "text", {}
    saved = Path(folder) / "config.yaml"
    if saved.is_file():
        import yaml

        try:
            data = yaml.safe_load(saved.read_text()) or {}
            text = data.get("data", {}).get("text_column") or text
            by_task = {t["name"]: t["column"] for t in data.get("tasks", []) if t.get("column")}
        except (yaml.YAMLError, AttributeError, KeyError, TypeError):
            log.warning("%s is unreadable; reading columns named after the tasks", saved)
    by_task.update(parse_label_column(v) for v in label_columns or [])
    return Columns.for_tasks(tasks, text_column or text, by_task)


@dataclass
class CheckPlan:
    """What `mtst data check` checks, and how."""

    paths: list[Path]
    tasks: list[TaskSpec]
    columns: Columns
    conflicts: ConflictPolicy
    label_source: dict[str, str]  # per task, where its labels came from (for messages)

    def run(self) -> CheckReport:
        return check_files(self.paths, self.tasks, self.columns, self.conflicts, self.label_source)


def check_plan(
    files: Sequence[str | Path] | None,
    config: str | Path | None,
    text_column: str | None,
    label_columns: Sequence[str] | None,
    conflicts: str | None,
) -> CheckPlan:
    """What `mtst data check` checks: files, tasks, columns, conflict policy and where labels come from.

    With a config: its tasks (labels it does not list come from its training file) and, without
    files, its data files. Without: --label-column's tasks, or every column but the text; labels are
    the ones found, except that the labelling guide's tasks keep the guide's labels.
    """
    from mtst.config import config_with_options, load_config, parse_label_column

    if config is not None:
        cfg = resolve_labels(
            config_with_options(
                load_config(config),
                text_column=text_column,
                label_columns=list(label_columns or []),
                conflicts=conflicts,
            )
        )
        paths = [Path(p) for p in files or [cfg.data.train, cfg.data.dev, cfg.data.test] if p]
        source = {
            t.name: f"the labels found in {t.labels_from}" if t.labels_from else "the labels the config lists"
            for t in cfg.tasks
        }
        return CheckPlan(paths, cfg.specs(), config_columns(cfg), cfg.data.conflicts, source)
    if not files:
        raise MtstError("no files to check: give FILES, or --config with data files")
    paths = [Path(p) for p in files]
    text = text_column or "text"
    if label_columns:
        columns = Columns(text, dict(parse_label_column(v) for v in label_columns))
    else:
        columns = infer_columns(paths, text)
    tasks = infer_tasks(paths, columns)
    defaults = {t.name for t in DEFAULT_TASKS}
    source = {n: "the labelling guide's labels" for n in columns.labels if n in defaults}
    policy = conflicts or "error"
    if policy not in ("error", "first", "majority", "drop"):
        raise MtstError(f"--conflicts {policy!r}: choose error, first, majority or drop")
    return CheckPlan(paths, tasks, columns, policy, source)
