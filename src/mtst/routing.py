"""Heads that answer only where they apply: `applies_when` checks, dependency order and caller-given labels.

A task's `applies_when` names other tasks and the labels of theirs for which it applies (receipt_quality
applies when text_kind is ocr_receipt). Torch-free: both backends, the CLI and the server share it.
"""

from collections.abc import Mapping, Sequence

from mtst.errors import MtstError
from mtst.tasks import TaskSpec

Given = Mapping[str, str]


def check_applies_when(specs: Sequence[TaskSpec]) -> None:
    """Every applies_when names a known task and its labels, and no task depends on itself through others."""
    by_name = {s.name: s for s in specs}
    for spec in specs:
        for task, labels in (spec.applies_when or {}).items():
            if task == spec.name:
                raise MtstError(f"task {spec.name!r}: applies_when names the task itself")
            if task not in by_name:
                raise MtstError(
                    f"task {spec.name!r}: applies_when names unknown task {task!r}; tasks are: {', '.join(by_name)}"
                )
            if not labels:
                raise MtstError(f"task {spec.name!r}: applies_when.{task} lists no labels")
            for label in labels:
                if label not in by_name[task].labels:
                    raise MtstError(
                        f"task {spec.name!r}: applies_when.{task} names {label!r}, "
                        f"not one of {task}'s labels: {', '.join(by_name[task].labels)}"
                    )
    dependency_order(specs)


def dependency_order(specs: Sequence[TaskSpec]) -> list[str]:
    """Task names with every task after the tasks it depends on (otherwise in the given order)."""
    by_name = {s.name: s for s in specs}
    order: list[str] = []
    visiting: list[str] = []

    def visit(name: str) -> None:
        if name in order:
            return
        if name in visiting:
            cycle = visiting[visiting.index(name) :] + [name]
            raise MtstError(f"applies_when forms a cycle: {' -> '.join(cycle)}; one task must not depend on another")
        visiting.append(name)
        for parent in by_name[name].applies_when or {}:
            if parent in by_name:
                visit(parent)
        visiting.pop()
        order.append(name)

    for spec in specs:
        visit(spec.name)
    return order


def with_dependencies(names: Sequence[str], tasks: Mapping[str, TaskSpec]) -> list[str]:
    """The requested tasks plus every task their applies_when needs, each once (requested ones first)."""
    result = list(dict.fromkeys(names))
    for name in result:  # grows while it is walked: parents of parents are added too
        for parent in tasks[name].applies_when or {}:
            if parent not in result:
                result.append(parent)
    return result


def check_given(given: Given | Sequence[Given] | None, n: int, tasks: Mapping[str, TaskSpec]) -> list[dict[str, str]]:
    """One {task: label} dict per text: `given` is one dict for all texts or a list of one per text."""
    if given is None:
        return [{} for _ in range(n)]
    if isinstance(given, Mapping):
        rows = [given] * n
    elif isinstance(given, Sequence) and not isinstance(given, str):
        if len(given) != n:
            raise MtstError(f"given has {len(given)} entries for {n} texts; give one dict, or one per text")
        rows = list(given)
    else:
        raise MtstError("given must be a dict of task -> label, or a list of such dicts (one per text)")
    checked = []
    for i, row in enumerate(rows):
        where = "given" if isinstance(given, Mapping) else f"given[{i}]"
        if not isinstance(row, Mapping):
            raise MtstError(f"{where} must be a dict of task -> label, got {type(row).__name__}")
        for task, label in row.items():
            if task not in tasks:
                raise MtstError(f"{where} names unknown task {task!r}; this model's tasks are: {', '.join(tasks)}")
            if label not in tasks[task].labels:
                raise MtstError(f"{where}: {label!r} is not one of {task}'s labels: {', '.join(tasks[task].labels)}")
        checked.append(dict(row))
    return checked


def parse_given(items: Sequence[str]) -> dict[str, str]:
    """`task=label` strings (the CLI's --given) as a dict."""
    result = {}
    for item in items:
        task, sep, label = item.partition("=")
        if not sep or not task.strip() or not label.strip():
            raise MtstError(f"--given {item!r} must look like task=label, e.g. text_kind=search_query")
        result[task.strip()] = label.strip()
    return result


def applies(spec: TaskSpec, routes: Mapping[str, str | None], inapplicable: set[str]) -> bool:
    """Whether a head applies to a text, from the labels already settled for the tasks it depends on.

    routes[task]: that task's label for this text (given, or predicted by a trained head that did not abstain),
    or None where it is unknown; an unknown router rules nothing out. inapplicable: tasks that do not apply to
    this text, so neither does a head that depends on them.
    """
    for task, labels in (spec.applies_when or {}).items():
        if task in inapplicable:
            return False
        label = routes.get(task)
        if label is not None and label not in labels:
            return False
    return True
