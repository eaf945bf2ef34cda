"""The training loop: labelled files in, a trained, evaluated, saved model out.

One Trainer per run. `fit` sets everything up from the config, then runs the epochs: train, score dev,
update early stopping, report, checkpoint. The parts it uses each live in their own module: the loss
(loss.py), where embeddings come from (features.py), what a resumed run needs (state.py, stopping.py,
checkpoint.py) and the reporting (callbacks.py).
"""

import json
import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from mtst.cache import encoder_fingerprint
from mtst.config import TrainConfig, write_config
from mtst.data import IGNORE_INDEX, Record, label_matrix, load_splits, resolve_labels, stratified_split
from mtst.distributed import join_world
from mtst.errors import MtstError
from mtst.evaluation import evaluate, score, summary
from mtst.freezing import trainable_report
from mtst.training.batches import epoch_batches
from mtst.training.callbacks import Callback, default_callbacks
from mtst.training.checkpoint import CHECKPOINT, METRICS, TIMING, claim_output, load_checkpoint, save_checkpoint
from mtst.training.features import feature_source
from mtst.training.loss import multitask_loss, shard_gradient_squares
from mtst.training.model_setup import (
    apply_freezing,
    build_model,
    encoder_always_frozen,
    make_optimizer,
    set_train_modes,
)
from mtst.training.state import Schedule, TrainState, seed_everything
from mtst.training.stopping import EarlyStopping

log = logging.getLogger("mtst")


class StepModule(nn.Module):
    """One training step's forward as a single module, so DistributedDataParallel can wrap it.

    `embed` is a callable giving the batch's embeddings (a feature source); every head runs on them.
    The uncertainty weights live here so they sync too.
    """

    def __init__(self, model, log_vars: nn.Parameter | None) -> None:
        super().__init__()
        self.model = model
        self.log_vars = log_vars

    def forward(self, embed) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        emb = embed()
        if not emb.requires_grad:
            emb = emb.detach().requires_grad_(True)  # to measure each task's gradient at the encoder
        return emb, self.model.head_logits(emb)


@dataclass
class Split:
    """One split's inputs, made once: records, lengths, gold labels and where its embeddings come from."""

    records: list[Record]
    lengths: np.ndarray
    gold: dict[str, np.ndarray]
    features: object  # a feature source: features(index) -> embeddings


class Trainer:
    """Trains a MultiTaskModel from a TrainConfig into an output folder."""

    def __init__(
        self, config: TrainConfig, output: str | Path, quiet: bool = False, callbacks: list[Callback] | None = None
    ) -> None:
        self.config = config = resolve_labels(config)  # tasks that list no labels take the training file's
        self.output = Path(output)
        self.quiet = quiet
        self.extra_callbacks = list(callbacks or [])
        self.specs = config.specs()
        self.names = [s.name for s in self.specs]
        self.learning = [n for n in self.names if n not in config.encoder.frozen_heads]
        self.weights = {t.name: t.weight for t in config.tasks}
        self.caching_seconds = 0.0

    # --- setup --------------------------------------------------------------------

    def load_data(self) -> tuple[list[Record], list[Record], list[Record] | None]:
        d = self.config.data
        train, dev, test = load_splits(self.config)
        if dev is None:
            train, dev = stratified_split(train, d.dev_fraction, self.config.seed)
        # A task nobody labelled yet is left untrained (and said so), rather than stopping the other tasks' run.
        self.unlabelled = [n for n in self.learning if not any(n in r.labels for r in train)]
        if self.unlabelled and len(self.unlabelled) == len(self.learning):
            raise MtstError(f"no task to train has a labelled record in the training data ({d.train})")
        for name in self.unlabelled:
            log.warning("task %r has no labelled record in %s: its head stays untrained", name, d.train)
        self.learning = [n for n in self.learning if n not in self.unlabelled]
        for name in self.learning:
            if not any(name in r.labels for r in dev):
                raise MtstError(f"task {name!r} has no labelled record in the dev data; early stopping needs some")
        return train, dev, test

    def prepare(self, records: list[Record]) -> Split:
        encoder = self.model.encoder
        ids, cut = encoder.tokenize([r.text for r in records])
        encoder.warn_truncated(cut, len(records))
        began = time.perf_counter()
        features = feature_source(
            self.config, encoder, [r.text for r in records], ids, self.world, self.fingerprint, not self.quiet
        )
        self.caching_seconds += time.perf_counter() - began
        return Split(records, np.array([len(i) for i in ids]), label_matrix(records, self.specs), features)

    def setup(self) -> None:
        cfg = self.config
        self.world, device = join_world(cfg.device)
        self.quiet = self.quiet or not self.world.is_main
        seed_everything(cfg.seed)
        train, dev, self.test_records = self.load_data()  # data mistakes show before the model loads
        self.model = build_model(cfg, device)
        if self.model.device.type == "cuda" and torch.cuda.is_bf16_supported():
            self.model.encoder.precision = "bf16"
        apply_freezing(self.model, cfg, 0, set())  # fail fast on 'all' before any work
        fast = encoder_always_frozen(cfg) and cfg.encoder.cache_embeddings
        self.fingerprint = encoder_fingerprint(self.model.encoder) if fast else None
        self.train, self.dev = self.prepare(train), self.prepare(dev)
        self.log_vars = (
            nn.Parameter(torch.zeros(len(self.names), device=self.model.device))
            if cfg.loss_weighting == "uncertainty"
            else None
        )
        self.step_module = StepModule(self.model, self.log_vars)
        self.optimizer = make_optimizer(self.model, cfg, self.log_vars)
        self.stopping = EarlyStopping(self.learning, cfg.patience, whole_model=not encoder_always_frozen(cfg))
        self.state = TrainState(Schedule.for_run(self.train.lengths, cfg, self.world.size))
        main = self.world.is_main
        self.callbacks = default_callbacks(self.output, self.quiet) + self.extra_callbacks if main else []

    # --- the run ------------------------------------------------------------------

    def fit(self, resume: bool = False, overwrite: bool = False) -> dict:
        done = claim_output(self.output, resume, overwrite, is_main=os.environ.get("RANK", "0") == "0")
        if done is not None:
            return done
        self.setup()
        self.output.mkdir(parents=True, exist_ok=True)
        if self.world.is_main:
            write_config(self.config, self.output / "config.yaml")
        if resume:
            self.load()
        self.emit("on_train_begin", self.state.epoch)
        for epoch in range(self.state.epoch, self.config.epochs):
            if all(n in self.stopping.stopped for n in self.learning):
                break
            began = time.perf_counter()
            apply_freezing(self.model, self.config, epoch, self.stopping.stopped)
            lrs = {g["name"]: g["base_lr"] * self.state.lr_factor() for g in self.optimizer.param_groups}
            train_stats = self.train_epoch(epoch)
            dev_stats = self.evaluate_split(self.dev)
            self.stopping.update(dev_stats, epoch, self.model)
            row = self.history_row(epoch, train_stats, dev_stats, lrs, time.perf_counter() - began)
            self.state.history.append(row)
            self.state.epoch = epoch + 1
            self.emit("on_epoch_end", row, dev_stats)
            self.save()
        # Only the main process evaluates on test and writes the model; the others wait for it.
        self.stopping.restore(self.model)
        dev = self.evaluate_split(self.dev)  # every process takes part: the scores are gathered
        if self.world.is_main:
            self.finish(dev)
        self.world.barrier()
        self.world.close()
        return json.loads((self.output / METRICS).read_text())

    def emit(self, event: str, *args) -> None:
        for callback in self.callbacks:
            getattr(callback, event)(self, *args)

    # --- one epoch ----------------------------------------------------------------

    def train_epoch(self, epoch: int) -> dict:
        cfg, world = self.config, self.world
        set_train_modes(self.model, cfg)
        active = [n for n in self.learning if n not in self.stopping.stopped]
        weights = {n: self.weights[n] for n in active}
        positions = {n: i for i, n in enumerate(self.names)}
        batches = epoch_batches(self.train.lengths, cfg.batch_size, cfg.seed, epoch, world.size)
        loss_sum = dict.fromkeys(active, 0.0)
        steps = dict.fromkeys(active, 0)
        squares: dict[str, list[float]] = {n: [] for n in active}  # per step: this shard's squared grad norm
        step = self.step_runner()
        self.emit("on_epoch_begin", epoch, len(batches))
        for full in batches:
            index = world.shard(full)
            emb, logits = step(lambda index=index: self.train.features(index))
            gold = {n: torch.as_tensor(self.train.gold[n][index], device=emb.device) for n in active}
            labelled = {n: int((self.train.gold[n][full] != IGNORE_INDEX).sum()) for n in active}
            parts = multitask_loss(logits, gold, weights, labelled, world.size, self.log_vars, positions)
            step_squares = shard_gradient_squares(parts, emb, world.size)
            for name, loss in parts.task_losses.items():
                loss_sum[name] += loss.item()
                steps[name] += 1
                squares[name].append(step_squares.get(name, 0.0))
            self.optimizer.zero_grad(set_to_none=True)
            parts.total.backward()
            nn.utils.clip_grad_norm_(self.trainable_params(), cfg.optimizer.grad_clip)
            for group in self.optimizer.param_groups:
                group["lr"] = group["base_lr"] * self.state.lr_factor()
            self.optimizer.step()
            self.state.step += 1
            self.emit("on_step")
        # Every process took the same steps for each task, so the lists line up: one sum over processes.
        flat = [v for n in active for v in [loss_sum[n], *squares[n]]]
        summed = iter(world.sum(flat))
        stats = {}
        for name in active:
            loss = next(summed)
            norms = [float(np.sqrt(next(summed))) for _ in squares[name]]
            count = max(1, steps[name])
            stats[name] = {"train_loss": loss / count, "grad_norm": sum(norms) / count}
        return stats

    def step_runner(self):
        """The step module, wrapped in DistributedDataParallel when there are several processes.

        DDP fixes its parameter set when built, so it is rebuilt whenever freezing changes that set
        (gradual unfreezing, a task that stopped).
        """
        if not self.world.distributed:
            return self.step_module
        trainable = tuple(n for n, p in self.step_module.named_parameters() if p.requires_grad)
        if getattr(self, "_ddp_params", None) != trainable:
            from torch.nn.parallel import DistributedDataParallel

            ids = [self.model.device.index] if self.model.device.type == "cuda" else None
            self._ddp = DistributedDataParallel(self.step_module, device_ids=ids)
            self._ddp_params = trainable
        return self._ddp

    def trainable_params(self) -> list:
        params = [p for p in self.model.parameters() if p.requires_grad]
        if self.log_vars is not None:
            params.append(self.log_vars)
        return params

    def evaluate_split(self, split: Split) -> dict:
        """Per-task loss, accuracy and macro-F1 over one split."""
        model = self.model
        model.eval()
        probs = {n: np.zeros((len(split.records), len(s.labels)), np.float32) for n, s in model.tasks.items()}
        losses = {n: 0.0 for n in self.names}
        # Each process scores its share; the shares are gathered so every process sees the same metrics.
        order = self.world.shard(np.argsort(-split.lengths, kind="stable"))
        mine = {n: [] for n in probs}
        with torch.inference_mode():
            for start in range(0, len(order), 64):
                index = order[start : start + 64]
                logits = model.head_logits(split.features(index))
                for name, value in logits.items():
                    mine[name].append(torch.softmax(value.float(), -1).cpu().numpy())
                    gold = torch.as_tensor(split.gold[name][index], device=value.device)
                    if (gold != IGNORE_INDEX).any():
                        losses[name] += F.cross_entropy(
                            value.float(), gold, ignore_index=IGNORE_INDEX, reduction="sum"
                        ).item()
        for part_order, part_probs in self.world.gather((order, mine)):
            for name, chunks in part_probs.items():
                if chunks:
                    probs[name][part_order] = np.concatenate(chunks)
        losses = dict(zip(self.names, self.world.sum([losses[n] for n in self.names]), strict=True))
        result = score(probs, split.gold, self.specs)["tasks"]
        for name, m in result.items():
            m["loss"] = losses[name] / m["n"]
        return result

    # --- checkpoints --------------------------------------------------------------

    def save(self) -> None:
        if not self.world.is_main:
            return
        frozen = encoder_always_frozen(self.config)
        state = {
            "config": self.config.model_dump(),
            "model": self.model.heads.state_dict() if frozen else self.model.state_dict(),
            "log_vars": None if self.log_vars is None else self.log_vars.detach().clone(),
            "optimizer": self.optimizer.state_dict(),
            "early_stopping": self.stopping.state_dict(),
            "train_state": self.state.to_dict(),
        }
        save_checkpoint(self.output / CHECKPOINT, state)

    def load(self) -> None:
        path = self.output / CHECKPOINT
        state = load_checkpoint(path, self.model.device)
        if state.get("config") != self.config.model_dump():
            raise MtstError(f"cannot resume: {path} was made with a different config; use the same --config")
        if encoder_always_frozen(self.config):
            self.model.heads.load_state_dict(state["model"])
        else:
            self.model.load_state_dict(state["model"])
        if self.log_vars is not None:
            self.log_vars.data.copy_(state["log_vars"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.stopping.load_state_dict(state["early_stopping"])
        self.state = TrainState.from_dict(state["train_state"])

    # --- the end ------------------------------------------------------------------

    def history_row(self, epoch: int, train_stats: dict, dev_stats: dict, lrs: dict, seconds: float) -> dict:
        tasks = {}
        for name in self.names:
            row = {"stopped": name in self.stopping.stopped}
            row.update(train_stats.get(name, {}))
            if name in dev_stats:
                m = dev_stats[name]
                row.update({"dev_loss": m["loss"], "accuracy": m["accuracy"], "macro_f1": m["macro_f1"]})
            tasks[name] = row
        return {
            "epoch": epoch + 1,
            "tasks": tasks,
            "lr": lrs,
            "trainable_parameters": trainable_report(self.model)["trainable"],
            "seconds": round(seconds, 3),
        }

    def choose_embedding(self) -> None:
        """Serve the embedding the config asks for; a tuned one gets its STS-B score measured now."""
        from mtst.stsb import measure_stsb

        encoder = self.model.encoder
        if self.config.encoder.embedding == "tuned":
            encoder.embedding, encoder.stsb = "tuned", measure_stsb(encoder)
        elif encoder.tuned is not None or encoder.embedding == "base":
            encoder.embedding, encoder.stsb = "base", None  # (an init model whose base was lost stays tuned)

    def finish(self, dev: dict) -> dict:
        """Evaluate on test and leave the model, metrics and pictures in the output folder."""
        from mtst.confidence import fit_confidence, save_confidence_plots

        for name in self.learning:
            self.model.trained[name] = True
        # Temperatures and floors fitted on dev, before test is scored and the model saved with them.
        for name, report in fit_confidence(self.model, self.dev.records, self.config.abstain_precision()).items():
            if name in dev:
                dev[name].update(report)
        metrics = {
            "epochs_run": len(self.state.history),
            # The epoch whose weights were saved, per task (see stopping.py).
            "best_epoch": {n: e + 1 for n, e in self.stopping.kept_epochs().items()},
            "dev": {"tasks": dev},
            "trainable_parameters": trainable_report(self.model),
            "untrained_tasks": self.unlabelled,
        }
        if self.test_records is not None:
            metrics["test"] = evaluate(self.model, self.test_records)
        split = "test" if "test" in metrics else "dev"
        final = metrics.get("test", metrics["dev"])
        self.choose_embedding()
        try:
            self.model.save(self.output, metrics={"split": split, **summary(final)})
        except OSError as err:
            raise MtstError(
                f"could not save the model to {self.output} ({err}); the folder keeps what it had and "
                f"{CHECKPOINT} is kept: fix the cause, then run again with --resume"
            ) from None
        (self.output / METRICS).write_text(json.dumps(metrics, indent=2) + "\n")
        self.emit("on_train_end", metrics, final, split)
        save_confidence_plots({n: m for n, m in final["tasks"].items() if "calibration" in m}, self.output)
        # Wall-clock time apart from metrics.json, which a resumed run must reproduce exactly.
        timing = {"caching": self.caching_seconds, "epochs": sum(row["seconds"] for row in self.state.history)}
        (self.output / TIMING).write_text(json.dumps(timing, indent=2) + "\n")
        (self.output / CHECKPOINT).unlink(missing_ok=True)
        return metrics


def train(
    config: TrainConfig, output: str | Path, resume: bool = False, quiet: bool = False, overwrite: bool = False
) -> dict:
    """Train from a config into `output`; returns the metrics written to output/metrics.json.

    `output` must be empty or new, unless `resume` (continue the run in it) or `overwrite` (start again).
    """
    return Trainer(config, output, quiet=quiet).fit(resume=resume, overwrite=overwrite)
