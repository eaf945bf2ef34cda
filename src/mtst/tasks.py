"""Task specifications: a task's name and its label list. Free of torch, so every part can use it."""

import re
from dataclasses import asdict, dataclass, field
from pathlib import Path

from mtst.errors import MtstError

NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass(frozen=True)
class TaskSpec:
    """One classification task: its name, its labels (in order) and its head's shape."""

    name: str
    labels: tuple[str, ...]
    hidden: int | None = None  # None: a single Linear layer; else one hidden layer of this size
    dropout: float = 0.1  # used only with a hidden layer

    def __post_init__(self) -> None:
        object.__setattr__(self, "labels", tuple(self.labels))
        if not NAME_PATTERN.match(self.name):
            raise MtstError(f"task name {self.name!r} must be lower case letters, digits and underscores")
        if len(self.labels) < 2:
            raise MtstError(f"task {self.name!r} needs at least two labels, got {list(self.labels)}")
        if len(set(self.labels)) != len(self.labels):
            raise MtstError(f"task {self.name!r} lists a label twice: {list(self.labels)}")
        if self.hidden is not None and self.hidden < 1:
            raise MtstError(f"task {self.name!r}: hidden must be a positive size or null")

    def index(self, label: str) -> int:
        try:
            return self.labels.index(label)
        except ValueError:
            raise MtstError(
                f"label {label!r} is not one of task {self.name!r}'s labels: {', '.join(self.labels)}"
            ) from None

    def to_dict(self) -> dict:
        return {**asdict(self), "labels": list(self.labels)}

    @classmethod
    def from_dict(cls, data: dict) -> "TaskSpec":
        return cls(
            name=data["name"],
            labels=tuple(data["labels"]),
            hidden=data.get("hidden"),
            dropout=data.get("dropout", 0.1),
        )


# The three tasks of the labelling guide (docs/labelling-guide.md), labels in precedence order.
DEFAULT_TASKS: tuple[TaskSpec, ...] = (
    TaskSpec("sentence_type", ("fraud_alert", "help_request", "offer", "receipt", "generic_text")),
    TaskSpec("receipt_quality", ("good_quality", "blurry", "incomplete")),
    TaskSpec("query_intent", ("brand_search", "deal_search", "support_search", "promo_search")),
)


@dataclass
class TaskFile:
    """What a saved model records about its heads (tasks.json)."""

    tasks: list[TaskSpec]
    trained: dict[str, bool] = field(default_factory=dict)
    max_length: int = 256


def read_task_file(path: Path) -> TaskFile:
    import json

    try:
        data = json.loads(path.read_text())
        return TaskFile(
            tasks=[TaskSpec.from_dict(t) for t in data["tasks"]],
            trained={t["name"]: bool(t.get("trained", False)) for t in data["tasks"]},
            max_length=int(data.get("max_length", 256)),
        )
    except FileNotFoundError:
        raise MtstError(
            f"{path} is missing: {path.parent} is not an mtst model folder (save one with model.save() or mtst train)"
        ) from None
    except (ValueError, KeyError, TypeError) as err:
        raise MtstError(f"{path} is broken ({err}); re-save the model") from err


def write_task_file(path: Path, task_file: TaskFile) -> None:
    import json

    data = {
        "tasks": [{**t.to_dict(), "trained": task_file.trained.get(t.name, False)} for t in task_file.tasks],
        "max_length": task_file.max_length,
    }
    path.write_text(json.dumps(data, indent=2) + "\n")
