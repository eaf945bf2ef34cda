"""Behavioural tests for a model's heads, after CheckList (Ribeiro et al. 2020).

A suite is a folder of YAML files; each file lists capabilities, each capability a test type:
- MFT (minimum functionality): each text gets its expected label.
- INV (invariance): a text and its variants (written out, or made by a named perturbation) all get
  the text's label.
- DIR (directional): the text gets its label, and the perturbed text gets another, named one.

A case passes when every check in it passes, so an INV or DIR case whose base text is already wrong
fails too: the perturbation can only be credited when the model got the original right.

Torch-free: any backend with `.predict(texts)` runs a suite. Where a case gives `given` (known
answers such as {"text_kind": "search_query"}) the runner passes it to `predict(texts, given=...)`
when the backend takes it. An expected label of None means the head does not apply to the text.

An abstention (a label of None under the head's confidence floor) fails a case that expects a label. Each
capability also reports its pass rate with abstentions read as the head's top label, which tells a
model that abstains where it is unsure from one that answers wrong.
"""

import inspect
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from mtst.errors import MtstError
from mtst.perturbations import perturb
from mtst.tasks import DEFAULT_TASKS, TaskSpec

TEST_TYPES = ("MFT", "INV", "DIR")
# The router head that says which heads apply to a text (a search query gets no sentence_type).
TEXT_KIND = TaskSpec("text_kind", ("message", "ocr_receipt", "search_query"))
KNOWN_TASKS: dict[str, TaskSpec] = {t.name: t for t in (*DEFAULT_TASKS, TEXT_KIND)}


@dataclass(frozen=True)
class Check:
    """One text, the answers it should get (task -> label, None: no answer) and what the model is told."""

    text: str
    expect: tuple[tuple[str, str | None], ...]
    given: tuple[tuple[str, str], ...] = ()


@dataclass
class Case:
    checks: list[Check]


@dataclass
class Capability:
    name: str
    type: str
    task: str
    description: str
    cases: list[Case]
    source: str = ""


@dataclass
class CapabilityResult:
    capability: Capability
    passed: int
    bases_passed: int = 0  # cases whose original text got its answers (for INV and DIR: the perturbation's chance)
    failures: list[dict] = field(default_factory=list)  # one per failed case: its first failed check
    # Cases that pass when each abstention is read as its head's top label: what separates "abstained" from "wrong".
    passed_top_label: int = 0

    @property
    def total(self) -> int:
        return len(self.capability.cases)

    @property
    def pass_rate(self) -> float:
        return self.passed / self.total if self.total else 0.0

    @property
    def pass_rate_top_label(self) -> float:
        return self.passed_top_label / self.total if self.total else 0.0


# --- loading ----------------------------------------------------------------------


def load_suite(folder: str | Path) -> list[Capability]:
    """Every capability in the folder's *.yaml files (sorted by file name), validated."""
    folder = Path(folder)
    files = sorted(folder.glob("*.yaml")) if folder.is_dir() else [folder] if folder.is_file() else []
    if not files:
        raise MtstError(f"no behaviour suite at {folder}: give a folder of .yaml files (e.g. behaviour/app)")
    capabilities: list[Capability] = []
    for path in files:
        capabilities += load_file(path)
    names = [c.name for c in capabilities]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise MtstError(f"capability names must be unique across the suite; repeated: {', '.join(twice)}")
    return capabilities


def load_file(path: Path) -> list[Capability]:
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as err:
        raise MtstError(f"{path} is not valid YAML: {err}") from None
    if not isinstance(data, dict) or not isinstance(data.get("capabilities"), list):
        raise MtstError(f"{path}: expected a mapping with a 'capabilities' list")
    bases = data.get("bases") or {}
    capabilities = []
    for number, raw in enumerate(data["capabilities"], start=1):
        where = f"{path.name}, capability {raw.get('name', number) if isinstance(raw, dict) else number}"
        try:
            capabilities.append(parse_capability(raw, data.get("task"), bases, where))
        except MtstError as err:
            raise MtstError(f"{where}: {err}") from None
        capabilities[-1].source = path.name
    return capabilities


def parse_capability(raw: object, file_task: str | None, bases: dict, where: str) -> Capability:
    if not isinstance(raw, dict):
        raise MtstError("expected a mapping with name, type and cases")
    unknown = set(raw) - {"name", "type", "task", "description", "expect", "expect_after", "given", "perturb"}
    unknown -= {"cases", "from"}
    if unknown:
        raise MtstError(f"unknown key(s) {', '.join(sorted(unknown))}")
    name, kind, task = raw.get("name"), raw.get("type"), raw.get("task", file_task)
    if not name or kind not in TEST_TYPES:
        raise MtstError(f"needs a name and a type, one of {', '.join(TEST_TYPES)}")
    if task not in KNOWN_TASKS:
        raise MtstError(f"task {task!r} is not one of {', '.join(KNOWN_TASKS)}")
    perturbations = raw.get("perturb") or []
    perturbations = [perturbations] if isinstance(perturbations, str) else list(perturbations)
    if kind == "MFT" and perturbations:
        raise MtstError("an MFT takes no perturbation; use INV or DIR")
    if kind == "DIR" and ("expect_after" not in raw or not perturbations):
        raise MtstError("a DIR test needs a perturbation (perturb) and the label after it (expect_after)")
    entries = list(raw.get("cases") or [])
    if "from" in raw:
        if raw["from"] not in bases:
            raise MtstError(f"'from: {raw['from']}' names no list under the file's 'bases'")
        entries += list(bases[raw["from"]])
    if not entries:
        raise MtstError("has no cases")
    defaults = {"expect": raw.get("expect"), "given": raw.get("given") or {}}
    after = expectation(raw.get("expect_after"), task) if kind == "DIR" else None
    cases = []
    for entry in entries:
        base = parse_check(entry, task, defaults)
        variants = list(entry.get("variants", [])) if isinstance(entry, dict) else []
        variants += [perturb(p, base.text) for p in perturbations]
        if kind == "MFT" and variants:
            raise MtstError(f"an MFT case has variants: {base.text[:40]!r}")
        if kind != "MFT" and not variants:
            raise MtstError(f"case {base.text[:40]!r} has no variants and the capability no perturbation")
        if any(v == base.text for v in variants):
            raise MtstError(f"a variant of {base.text[:40]!r} is the text itself")
        variant_expect = after if kind == "DIR" else base.expect
        cases.append(Case([base, *(Check(v, variant_expect, base.given) for v in variants)]))
    return Capability(name, kind, task, str(raw.get("description", "")).strip(), cases)


def parse_check(entry: object, task: str, defaults: dict) -> Check:
    if isinstance(entry, str):
        entry = {"text": entry}
    if not isinstance(entry, dict) or not isinstance(entry.get("text"), str) or not entry["text"].strip():
        raise MtstError(f"a case needs a non-empty text, got {entry!r}")
    unknown = set(entry) - {"text", "expect", "given", "variants", "id", "note"}
    if unknown:
        raise MtstError(f"case {entry['text'][:40]!r}: unknown key(s) {', '.join(sorted(unknown))}")
    raw_expect = entry.get("expect", defaults["expect"])
    given = {**defaults["given"], **(entry.get("given") or {})}
    for kind_task, value in given.items():
        check_label(kind_task, value)
    return Check(entry["text"].strip("\n"), expectation(raw_expect, task), tuple(sorted(given.items())))


def expectation(raw: object, task: str) -> tuple[tuple[str, str | None], ...]:
    """A label for the capability's task, or a mapping task -> label (null: the head does not apply)."""
    if isinstance(raw, dict):
        if not raw:
            raise MtstError("an empty expect mapping")
        pairs = raw.items()
    elif isinstance(raw, str):
        pairs = [(task, raw)]
    else:
        raise MtstError(f"expect must be a label or a mapping of task to label, got {raw!r}")
    for name, label in pairs:
        if label is not None:
            check_label(name, label)
        elif name not in KNOWN_TASKS:
            raise MtstError(f"task {name!r} is not one of {', '.join(KNOWN_TASKS)}")
    return tuple(sorted(pairs))


def check_label(task: str, label: object) -> None:
    if task not in KNOWN_TASKS:
        raise MtstError(f"task {task!r} is not one of {', '.join(KNOWN_TASKS)}")
    if not isinstance(label, str):
        raise MtstError(f"label for {task} must be a string, got {label!r}")
    KNOWN_TASKS[task].index(label)  # raises MtstError naming the task's labels


# --- running and scoring --------------------------------------------------------------------


def takes_given(model: object) -> bool:
    """Whether the backend's predict accepts known answers (given=...) for some heads."""
    try:
        params = inspect.signature(model.predict).parameters
    except (TypeError, ValueError):
        return False
    return "given" in params or any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())


def answer(prediction: object) -> tuple[str | None, str | None]:
    """(the label served, the label read through an abstention): an abstaining head's top label counts as
    its answer in the second; a head that does not apply stays None in both."""
    label = getattr(prediction, "label", None)
    distribution = getattr(prediction, "distribution", None)
    if label is None and getattr(prediction, "abstained", False) and distribution:
        return None, max(distribution, key=distribution.get)
    return label, label


def answers(model: object, checks: list[Check], batch_size: int = 32) -> dict[tuple, dict[str, tuple]]:
    """Each distinct (text, given)'s answers per task (see `answer`), predicted once; `given` groups share a call."""
    groups: dict[tuple, list[str]] = defaultdict(list)
    for check in checks:
        if check.text not in groups[check.given]:
            groups[check.given].append(check.text)
    with_given = takes_given(model)
    result: dict[tuple, dict[str, tuple]] = {}
    for given, texts in groups.items():
        if given and with_given:
            rows = model.predict(texts, batch_size=batch_size, given=dict(given))
        else:
            rows = model.predict(texts, batch_size=batch_size)
        for text, row in zip(texts, rows, strict=True):
            result[(text, given)] = {task: answer(p) for task, p in row.items()}
    return result


def run_suite(model: object, capabilities: list[Capability], batch_size: int = 32) -> list[CapabilityResult]:
    """Score every capability: a case passes when each of its checks gets every expected answer."""
    checks = [check for cap in capabilities for case in cap.cases for check in case.checks]
    got = answers(model, checks, batch_size)
    results = []
    for cap in capabilities:
        result = CapabilityResult(cap, passed=0)
        for case in cap.cases:
            failure = first_failure(case, got)
            if failure is None or failure["variant"]:
                result.bases_passed += 1
            if failure is None:
                result.passed += 1
            else:
                result.failures.append(failure)
            if first_failure(case, got, top_label=True) is None:
                result.passed_top_label += 1
        result.failures.sort(key=lambda f: not f["variant"])  # failures of the perturbation itself first
        results.append(result)
    return results


def first_failure(case: Case, got: dict[tuple, dict[str, tuple]], top_label: bool = False) -> dict | None:
    """The case's first check whose answer is not the expected one (top_label: abstentions read as their top label)."""
    for position, check in enumerate(case.checks):
        labels = got[(check.text, check.given)]
        for task, expected in check.expect:
            label = labels.get(task, (None, None))[1 if top_label else 0]
            if label != expected:
                return {"text": check.text, "variant": position > 0, "task": task, "expected": expected, "got": label}
    return None


def rate_by_type(results: list[CapabilityResult]) -> dict[str, dict]:
    by_type: dict[str, dict] = {}
    for kind in TEST_TYPES:
        mine = [r for r in results if r.capability.type == kind]
        cases = sum(r.total for r in mine)
        if cases:
            passed = sum(r.passed for r in mine)
            by_type[kind] = {"cases": cases, "passed": passed, "pass_rate": passed / cases}
    return by_type


def report(results: list[CapabilityResult], max_failures: int = 5) -> dict:
    """A JSON-ready summary: each capability's pass rate and first failures, then rates per test type."""
    cases = sum(r.total for r in results)
    passed = sum(r.passed for r in results)
    passed_top = sum(r.passed_top_label for r in results)
    return {
        "capabilities": [
            {
                "name": r.capability.name,
                "type": r.capability.type,
                "task": r.capability.task,
                "file": r.capability.source,
                "description": r.capability.description,
                "cases": r.total,
                "passed": r.passed,
                "pass_rate": round(r.pass_rate, 4),
                "pass_rate_top_label": round(r.pass_rate_top_label, 4),
                "bases_passed": r.bases_passed,
                "failures": r.failures[:max_failures],
            }
            for r in results
        ],
        "by_type": {k: {**v, "pass_rate": round(v["pass_rate"], 4)} for k, v in rate_by_type(results).items()},
        "overall": {
            "cases": cases,
            "passed": passed,
            "pass_rate": round(passed / cases, 4) if cases else 0.0,
            "pass_rate_top_label": round(passed_top / cases, 4) if cases else 0.0,
        },
    }


def one_line(text: str, width: int = 70) -> str:
    flat = " | ".join(part.strip() for part in text.split("\n"))
    return flat if len(flat) <= width else flat[: width - 3] + "..."


def format_table(results: list[CapabilityResult], show: int = 2) -> str:
    """The per-capability table, then the first failures of each capability that has some.

    "base ok" (INV, DIR): cases whose original text was answered right, so the perturbation was tested.
    "top": the pass rate when each abstention is read as its head's top label.
    """
    width = max([len(r.capability.name) for r in results] + [10])
    lines = [f"{'capability':<{width}}  type  {'task':<15}  cases   pass    top  base ok", "-" * (width + 54)]
    for r in results:
        c = r.capability
        base = f"{r.bases_passed}/{r.total}" if c.type != "MFT" else ""
        lines.append(
            f"{c.name:<{width}}  {c.type:<4}  {c.task:<15}  {r.total:>5}  {r.pass_rate:>5.0%}  "
            f"{r.pass_rate_top_label:>5.0%}  {base:>7}"
        )
    lines.append("-" * (width + 54))
    for kind, v in rate_by_type(results).items():
        lines.append(f"{'all ' + kind:<{width}}  {kind:<4}  {'':<15}  {v['cases']:>5}  {v['pass_rate']:>5.0%}")
    failing = [r for r in results if r.failures and show > 0]
    if failing:
        lines += ["", "failures (first of each capability):"]
    for r in failing:
        lines.append(f"  {r.capability.name}:")
        for f in r.failures[:show]:
            which = "variant" if f["variant"] else "text"
            lines.append(f"    {which} {one_line(f['text'])!r}")
            lines.append(f"      {f['task']}: got {f['got']}, expected {f['expected']}")
    return "\n".join(lines)


def below(results: list[CapabilityResult], min_pass: float) -> list[CapabilityResult]:
    return [r for r in results if r.pass_rate < min_pass]
