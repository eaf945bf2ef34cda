"""Training configuration: one YAML file per run, validated so that errors name the bad key."""

import os
import re
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, field_validator, model_validator

from mtst.errors import MtstError
from mtst.routing import check_applies_when
from mtst.tasks import NAME_PATTERN, TaskSpec


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AbstainConfig(Strict):
    """Abstention: the head answers only at confidences where dev accuracy reaches `precision` (null: always)."""

    precision: float | None = Field(None, gt=0, le=1)


class TaskConfig(Strict):
    name: str
    labels: list[str] = []  # empty: the labels found in the training file, sorted
    column: str | None = None  # the column (JSON key) holding this task's label; None: the task's name
    weight: float = Field(1.0, ge=0)  # static loss weight
    lr: float = Field(1e-3, gt=0)  # this head's learning rate
    hidden: int | None = Field(None, gt=0)
    dropout: float = Field(0.1, ge=0, lt=1)
    abstain: AbstainConfig | None = None  # overrides the run's abstain for this task
    applies_when: dict[str, list[str]] | None = None  # task -> its labels for which this task applies

    _labels_from: str | None = PrivateAttr(None)  # the training file the labels were found in, if any

    @field_validator("labels")
    @classmethod
    def _two_or_none(cls, labels: list[str]) -> list[str]:
        if len(labels) == 1:
            raise ValueError("list at least two labels, or none to take them from the training file")
        return labels

    @property
    def labels_from(self) -> str | None:
        return self._labels_from

    @labels_from.setter
    def labels_from(self, path: str | None) -> None:
        self._labels_from = path

    def spec(self) -> TaskSpec:
        if not self.labels:
            raise MtstError(f"task {self.name!r} lists no labels; they are read from the training data first")
        return TaskSpec(self.name, tuple(self.labels), self.hidden, self.dropout, applies_when=self.applies_when)


class GradualConfig(Strict):
    """Top-down unfreezing: `start` layers first, `step` more every `every` epochs."""

    start: int = Field(1, ge=0)
    step: int = Field(1, ge=1)
    every: int = Field(1, ge=1)

    def layers_at(self, epoch: int) -> int:
        return self.start + (epoch // self.every) * self.step


class EncoderConfig(Strict):
    path: str | None = None  # None: MTST_ENCODER or the shipped all-MiniLM-L6-v2
    # none: full fine-tuning; encoder: heads only; top: the top `top_layers` blocks and the heads;
    # gradual: top-down unfreezing on the `gradual` schedule; all: refused (nothing would learn).
    freeze: Literal["none", "encoder", "top", "gradual", "all"] = "encoder"
    top_layers: int = Field(2, ge=1)
    frozen_heads: list[str] = []  # heads kept as they are (e.g. when adding a task)
    init_model: str | None = None  # start from a saved mtst model (its encoder and matching heads)
    gradual: GradualConfig = GradualConfig()
    lr: float = Field(2e-5, gt=0)
    max_length: int = Field(256, ge=8, le=512)
    # What a longer text keeps: its head (as sentence-transformers cuts) or head and tail (mtst.truncation).
    truncation: Literal["head", "head_tail"] = "head"
    # Frozen parts run once: 'encoder' trains heads on cached embeddings, 'top' trains on cached
    # outputs of the frozen lower blocks. False runs the whole encoder every step (same results, slower).
    cache_embeddings: bool = True
    # The embedding the saved model serves: base (the original encoder's, whatever was tuned for the heads) or
    # tuned (the tuned branch's; the model card and /info then say so, with its STS-B score).
    embedding: Literal["base", "tuned"] = "base"


class OptimizerConfig(Strict):
    name: Literal["adamw"] = "adamw"
    weight_decay: float = Field(0.01, ge=0)
    warmup_ratio: float = Field(0.1, ge=0, lt=1)
    schedule: Literal["linear", "cosine", "constant"] = "linear"
    grad_clip: float = Field(1.0, gt=0)


class DataConfig(Strict):
    # Files: CSV, TSV, JSON lines or Parquet, by suffix. Relative paths are from the config's folder.
    train: str
    dev: str | None = None  # None: a seeded stratified split of train
    test: str | None = None
    dev_fraction: float = Field(0.15, gt=0, lt=1)
    text_column: str = "text"
    # Rows of one text (ignoring case and spacing) with different labels: an error naming both lines,
    # or keep the first row's label, the most frequent one, or drop the label.
    conflicts: Literal["error", "first", "majority", "drop"] = "error"


class TrainConfig(Strict):
    tasks: list[TaskConfig] = Field(min_length=1)
    encoder: EncoderConfig = EncoderConfig()
    optimizer: OptimizerConfig = OptimizerConfig()
    data: DataConfig
    loss_weighting: Literal["static", "uncertainty"] = "static"
    epochs: int = Field(10, ge=1)
    batch_size: int = Field(32, ge=1)
    seed: int = 13
    patience: int = Field(3, ge=1)
    device: str | None = None  # None: CUDA when present, else CPU
    abstain: AbstainConfig | None = None  # e.g. {precision: 0.95}: a confidence floor per head; None: no floors

    @model_validator(mode="after")
    def _consistent(self) -> "TrainConfig":
        names = [t.name for t in self.tasks]
        if len(set(names)) != len(names):
            raise ValueError(f"task names must be unique, got {names}")
        if self.encoder.embedding == "tuned" and self.encoder.freeze == "encoder":
            raise ValueError("encoder.embedding: tuned needs tuned blocks; use freeze top, gradual or none")
        unknown = set(self.encoder.frozen_heads) - set(names)
        if unknown:
            raise ValueError(f"encoder.frozen_heads names unknown task(s) {sorted(unknown)}; tasks are {names}")
        try:
            if all(t.labels for t in self.tasks):  # labels read from the data later are checked with the model
                check_applies_when(self.specs())
        except MtstError as err:
            raise ValueError(str(err)) from None
        return self

    def specs(self) -> list[TaskSpec]:
        return [t.spec() for t in self.tasks]

    def abstain_precision(self) -> dict[str, float | None]:
        """Each task's target precision for its floor (None: no floor): its own abstain, else the run's."""
        result = {}
        for t in self.tasks:
            chosen = t.abstain if t.abstain is not None else self.abstain
            result[t.name] = chosen.precision if chosen is not None else None
        return result


def _describe(err: ValidationError) -> str:
    parts = []
    for e in err.errors():
        key = ".".join(str(p) for p in e["loc"]) or "(top level)"
        parts.append(f"{key}: {e['msg']}")
    return "; ".join(parts)


def parse_config(data: dict, base: Path | None = None) -> TrainConfig:
    """Validate a config dict; relative data and model paths are taken from `base` (the YAML's folder)."""
    if not isinstance(data, dict):
        raise MtstError("a training config must be a mapping of keys to values")
    try:
        config = TrainConfig.model_validate(data)
    except ValidationError as err:
        raise MtstError(f"bad training config: {_describe(err)}") from None
    if base is not None:
        d = config.data
        for key in ("train", "dev", "test"):
            value = getattr(d, key)
            if value is not None and not Path(value).is_absolute():
                setattr(d, key, str((base / value).resolve()))
        for key in ("path", "init_model"):
            value = getattr(config.encoder, key)
            if value is not None and not Path(value).is_absolute():
                setattr(config.encoder, key, str((base / value).resolve()))
    return config


def load_config(path: str | Path) -> TrainConfig:
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text())
    except FileNotFoundError:
        raise MtstError(f"config file {path} does not exist") from None
    except yaml.YAMLError as err:
        raise MtstError(f"config file {path} is not valid YAML: {err}") from None
    try:
        return parse_config(data, base=path.parent)
    except MtstError as err:
        raise MtstError(f"{path}: {err}") from None


# --- a config from command-line options, and the config a run used --------------------------------


def parse_label_column(value: str) -> tuple[str, str]:
    """'TASK=COLUMN' or 'COLUMN' (the task takes the column's name) -> (task, column)."""
    task, sep, column = value.partition("=")
    task, column = task.strip(), (column if sep else task).strip()
    if not task or not column:
        raise MtstError(f"--label-column {value!r}: give TASK=COLUMN, or COLUMN when the task takes its name")
    if not NAME_PATTERN.match(task):
        raise MtstError(
            f"--label-column {value!r}: task name {task!r} must be lower case letters, digits and underscores; "
            f"name the task: --label-column {re.sub(r'[^a-z0-9_]+', '_', task.lower()).strip('_') or 'task'}={column}"
        )
    return task, column


def config_with_options(
    config: TrainConfig | None,
    *,
    train: str | None = None,
    dev: str | None = None,
    test: str | None = None,
    text_column: str | None = None,
    label_columns: list[str] | None = None,
    conflicts: str | None = None,
    freeze: str | None = None,
    epochs: int | None = None,
    batch_size: int | None = None,
    head_lr: float | None = None,
) -> TrainConfig:
    """`config` (None: the defaults) with the options given on the command line; paths are from the cwd.

    A --label-column for a task the config has sets that task's column; for a new task it adds one,
    whose labels come from the training file.
    """
    data = config.model_dump() if config is not None else {"tasks": [], "data": {}}
    files = {"train": train, "dev": dev, "test": test}
    data["data"].update({k: str(Path(v).resolve()) for k, v in files.items() if v is not None})
    if text_column is not None:
        data["data"]["text_column"] = text_column
    if conflicts is not None:
        data["data"]["conflicts"] = conflicts
    tasks = {t["name"]: t for t in data["tasks"]}
    for value in label_columns or []:
        name, column = parse_label_column(value)
        tasks.setdefault(name, {"name": name})["column"] = column
    data["tasks"] = list(tasks.values())
    if not data["tasks"]:
        raise MtstError("no task to train: name a label column with --label-column TASK=COLUMN, or give --config")
    if head_lr is not None:
        for task in data["tasks"]:
            task["lr"] = head_lr
    if freeze is not None:
        data.setdefault("encoder", {})["freeze"] = freeze
    if epochs is not None:
        data["epochs"] = epochs
    if batch_size is not None:
        data["batch_size"] = batch_size
    if "train" not in data["data"]:
        raise MtstError("no training data: give --train FILE, or --config with data.train")
    return parse_config(data)


def write_config(config: TrainConfig, path: str | Path) -> None:
    """The whole config as YAML, paths relative to its folder: `mtst train --config` on it reproduces the run."""
    path = Path(path)
    data = config.model_dump(mode="json")
    folder = path.parent.resolve()

    def relative(value: str | None) -> str | None:
        return None if value is None else os.path.relpath(Path(value).resolve(), folder)

    for key in ("train", "dev", "test"):
        data["data"][key] = relative(data["data"][key])
    for key in ("path", "init_model"):
        data["encoder"][key] = relative(data["encoder"][key])
    text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=120)
    partial = path.with_suffix(".tmp")
    partial.write_text("# The config of this run: `mtst train --config` on this file trains it again.\n" + text)
    os.replace(partial, path)
