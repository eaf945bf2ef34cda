"""Reading and validating labelled JSONL files (the labelling guide's record format).

`mtst data check` and the training loader share this code, so a file that passes
the check is a file that trains.
"""

import json
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from mtst.errors import MtstError
from mtst.tasks import TaskSpec

IGNORE_INDEX = -100  # a missing label: masked out of that task's loss, never guessed
MAX_ERRORS_SHOWN = 20


@dataclass
class Record:
    text: str
    labels: dict[str, str]
    where: str  # "file:line", for messages


@dataclass
class CheckReport:
    records: list[Record] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def counts(self, tasks: Sequence[TaskSpec]) -> dict[str, Counter]:
        """Label counts per task, in the task's label order."""
        result = {}
        for spec in tasks:
            found = Counter(r.labels[spec.name] for r in self.records if spec.name in r.labels)
            result[spec.name] = Counter({label: found[label] for label in spec.labels})
        return result


def _duplicate_key(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().lower()


def check_files(paths: Sequence[str | Path], tasks: Sequence[TaskSpec]) -> CheckReport:
    """Read every file, collecting all problems (file, line, value) rather than stopping at the first."""
    by_name = {spec.name: spec for spec in tasks}
    report = CheckReport()
    seen: dict[str, str] = {}
    for path in map(Path, paths):
        if not path.is_file():
            report.errors.append(f"{path}: no such file")
            continue
        with path.open(encoding="utf-8", errors="strict") as f:
            try:
                lines = f.read().splitlines()
            except UnicodeDecodeError as err:
                report.errors.append(f"{path}: not UTF-8 text ({err})")
                continue
        for number, line in enumerate(lines, start=1):
            where = f"{path}:{number}"
            if not line.strip():
                continue
            record = _parse_line(line, where, by_name, report.errors)
            if record is None:
                continue
            key = _duplicate_key(record.text)
            if key in seen:
                report.errors.append(f"{where}: duplicate text, first seen at {seen[key]}: {record.text[:60]!r}")
                continue
            seen[key] = where
            report.records.append(record)
    return report


def _parse_line(line: str, where: str, tasks: dict[str, TaskSpec], errors: list[str]) -> Record | None:
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as err:
        errors.append(f"{where}: invalid JSON ({err.msg} at column {err.colno})")
        return None
    if not isinstance(obj, dict):
        errors.append(f"{where}: each line must be a JSON object, got {type(obj).__name__}")
        return None
    text = obj.get("text")
    if not isinstance(text, str):
        errors.append(f"{where}: 'text' must be a string, got {text!r}")
        return None
    if not text.strip():
        errors.append(f"{where}: 'text' is empty")
        return None
    labels: dict[str, str] = {}
    ok = True
    for key, value in obj.items():
        if key == "text":
            continue
        if key not in tasks:
            errors.append(f"{where}: unknown key {key!r}; expected 'text' or a task: {', '.join(tasks)}")
            ok = False
        elif value not in tasks[key].labels:
            errors.append(f"{where}: label {value!r} is not one of {key}'s labels: {', '.join(tasks[key].labels)}")
            ok = False
        else:
            labels[key] = value
    return Record(text, labels, where) if ok else None


def load_records(paths: Sequence[str | Path], tasks: Sequence[TaskSpec]) -> list[Record]:
    """The records of one or more files, or MtstError listing what to fix."""
    report = check_files(paths, tasks)
    if report.errors:
        shown = report.errors[:MAX_ERRORS_SHOWN]
        more = len(report.errors) - len(shown)
        detail = "\n  ".join(shown) + (f"\n  ... and {more} more" if more else "")
        raise MtstError(f"{len(report.errors)} problem(s) in the data:\n  {detail}")
    if not report.records:
        raise MtstError(f"no records found in {', '.join(map(str, paths))}")
    return report.records


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
