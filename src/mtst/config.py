"""Training configuration: one YAML file per run, validated so that errors name the bad key."""

from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from mtst.errors import MtstError
from mtst.tasks import TaskSpec


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TaskConfig(Strict):
    name: str
    labels: list[str] = Field(min_length=2)
    weight: float = Field(1.0, ge=0)  # static loss weight
    lr: float = Field(1e-3, gt=0)  # this head's learning rate
    hidden: int | None = Field(None, gt=0)
    dropout: float = Field(0.1, ge=0, lt=1)

    def spec(self) -> TaskSpec:
        return TaskSpec(self.name, tuple(self.labels), self.hidden, self.dropout)


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
    train: str
    dev: str | None = None  # None: a seeded stratified split of train
    test: str | None = None
    dev_fraction: float = Field(0.15, gt=0, lt=1)


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
        return self

    def specs(self) -> list[TaskSpec]:
        return [t.spec() for t in self.tasks]


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
