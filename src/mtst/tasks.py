"""Task specifications: a task's name, its label list, how far to trust it and when it applies.

Free of torch, so every part can use it.
"""

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
    temperature: float = 1.0  # probabilities are softmax(logits / temperature), fitted on dev (mtst.calibration)
    floor: float | None = None  # below this confidence the head abstains (label None); None: it always answers
    # The head answers only where another task's label is one of these (task -> labels); None: always.
    applies_when: dict[str, tuple[str, ...]] | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "labels", tuple(self.labels))
        if self.applies_when is not None:
            object.__setattr__(self, "applies_when", {k: tuple(v) for k, v in self.applies_when.items()})
        if not NAME_PATTERN.match(self.name):
            raise MtstError(f"task name {self.name!r} must be lower case letters, digits and underscores")
        if len(self.labels) < 2:
            raise MtstError(f"task {self.name!r} needs at least two labels, got {list(self.labels)}")
        if len(set(self.labels)) != len(self.labels):
            raise MtstError(f"task {self.name!r} lists a label twice: {list(self.labels)}")
        if self.hidden is not None and self.hidden < 1:
            raise MtstError(f"task {self.name!r}: hidden must be a positive size or null")
        if not self.temperature > 0:
            raise MtstError(f"task {self.name!r}: temperature must be positive, got {self.temperature}")
        if self.floor is not None and not 0 <= self.floor <= 1:
            raise MtstError(f"task {self.name!r}: floor must be a probability between 0 and 1 or null")

    def __hash__(self) -> int:  # applies_when is a dict; hash what identifies the head
        return hash((self.name, self.labels, self.hidden, self.dropout))

    def head_shape(self) -> tuple:
        """What the head's weights depend on: two specs with the same shape can share trained weights."""
        return (self.name, self.labels, self.hidden, self.dropout)

    def index(self, label: str) -> int:
        try:
            return self.labels.index(label)
        except ValueError:
            raise MtstError(
                f"label {label!r} is not one of task {self.name!r}'s labels: {', '.join(self.labels)}"
            ) from None

    def to_dict(self) -> dict:
        applies = {k: list(v) for k, v in self.applies_when.items()} if self.applies_when is not None else None
        return {**asdict(self), "labels": list(self.labels), "applies_when": applies}

    @classmethod
    def from_dict(cls, data: dict) -> "TaskSpec":
        return cls(
            name=data["name"],
            labels=tuple(data["labels"]),
            hidden=data.get("hidden"),
            dropout=data.get("dropout", 0.1),
            temperature=data.get("temperature", 1.0),  # files written before calibration: 1.0, the raw softmax
            floor=data.get("floor"),
            applies_when=data.get("applies_when"),
        )


# The tasks of the labelling guide (docs/labelling-guide.md), labels in precedence order. text_kind routes:
# each other head answers only for the kinds of text it was made for.
DEFAULT_TASKS: tuple[TaskSpec, ...] = (
    TaskSpec("text_kind", ("message", "ocr_receipt", "search_query")),
    TaskSpec(
        "sentence_type",
        ("fraud_alert", "help_request", "offer", "receipt", "generic_text"),
        applies_when={"text_kind": ("message", "ocr_receipt")},
    ),
    TaskSpec("receipt_quality", ("good_quality", "blurry", "incomplete"), applies_when={"text_kind": ("ocr_receipt",)}),
    TaskSpec(
        "query_intent",
        ("brand_search", "deal_search", "support_search", "promo_search"),
        applies_when={"text_kind": ("search_query",)},
    ),
)


@dataclass
class TaskFile:
    """What a saved model records about its heads (tasks.json)."""

    tasks: list[TaskSpec]
    trained: dict[str, bool] = field(default_factory=dict)
    max_length: int = 256
    truncation: str = "head"  # mtst.truncation: what the encoder keeps of a longer text


def read_task_file(path: Path) -> TaskFile:
    import json

    from mtst.routing import check_applies_when
    from mtst.truncation import TRUNCATIONS

    try:
        data = json.loads(path.read_text())
        task_file = TaskFile(
            tasks=[TaskSpec.from_dict(t) for t in data["tasks"]],
            trained={t["name"]: bool(t.get("trained", False)) for t in data["tasks"]},
            max_length=int(data.get("max_length", 256)),
            truncation=str(data.get("truncation", "head")),
        )
        if task_file.truncation not in TRUNCATIONS:
            raise ValueError(f"truncation {task_file.truncation!r} is not one of {', '.join(TRUNCATIONS)}")
    except FileNotFoundError:
        raise MtstError(
            f"{path} is missing: {path.parent} is not an mtst model folder (save one with model.save() or mtst train)"
        ) from None
    except (ValueError, KeyError, TypeError) as err:
        raise MtstError(f"{path} is broken ({err}); re-save the model") from err
    try:
        check_applies_when(task_file.tasks)
    except MtstError as err:
        raise MtstError(f"{path}: {err}") from None
    return task_file


def write_task_file(path: Path, task_file: TaskFile) -> None:
    import json

    data = {
        "tasks": [{**t.to_dict(), "trained": task_file.trained.get(t.name, False)} for t in task_file.tasks],
        "max_length": task_file.max_length,
        "truncation": task_file.truncation,
    }
    path.write_text(json.dumps(data, indent=2) + "\n")
