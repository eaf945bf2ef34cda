"""The multi-task training loop: labelled files in, a trained, evaluated, saved model out.

One cross-entropy per task over the records labelled for it, combined by static
or learned (uncertainty) weights; one AdamW with a parameter group per part;
per-task early stopping; an atomic checkpoint every epoch so a killed run resumes
to the same result.
"""

import copy
import json
import logging
import math
import os
import random
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from tqdm.auto import tqdm

from mtst.cache import cached_encode, encoder_fingerprint
from mtst.config import TrainConfig
from mtst.data import IGNORE_INDEX, Record, label_matrix, load_records, stratified_split
from mtst.distributed import join_world
from mtst.encoder import SentenceEncoder
from mtst.errors import MtstError
from mtst.evaluation import evaluate, score, summary
from mtst.freezing import (
    encoder_layers,
    freeze_encoder,
    freeze_heads,
    set_trainable,
    trainable_report,
    unfreeze_top_layers,
)
from mtst.model import MultiTaskModel, make_head

log = logging.getLogger("mtst")

CHECKPOINT = "checkpoint.pt"
HISTORY = "history.jsonl"
CHUNK_BATCHES = 16  # batches are drawn from length-sorted chunks of this many, to pad little


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def build_model(config: TrainConfig, device: str | None = None) -> MultiTaskModel:
    """A fresh model, or one that starts from a saved mtst model and adds the config's new heads."""
    specs = config.specs()
    device = device or config.device
    if config.encoder.init_model is None:
        encoder = SentenceEncoder(config.encoder.path, config.encoder.max_length, device=device)
        return MultiTaskModel(encoder, specs)
    base = MultiTaskModel.load(config.encoder.init_model, device=device)
    model = MultiTaskModel(base.encoder, specs)
    for spec in specs:
        old = base.tasks.get(spec.name)
        if old is None:
            continue
        if old != spec:
            raise MtstError(
                f"task {spec.name!r} differs from the one in {config.encoder.init_model} "
                f"(labels {list(old.labels)}, hidden {old.hidden}); rename the task or match its spec"
            )
        model.heads[spec.name].load_state_dict(base.heads[spec.name].state_dict())
        model.trained[spec.name] = base.trained[spec.name]
    return model


def encoder_always_frozen(config: TrainConfig) -> bool:
    return config.encoder.freeze == "encoder"


def tuned_branch_blocks(config: TrainConfig, num_layers: int) -> int:
    """Blocks the tuned branch needs: as many as the strategy ever trains (num_layers + 1: embeddings too)."""
    enc = config.encoder
    if enc.freeze == "top":
        return enc.top_layers
    if enc.freeze == "gradual":
        return enc.gradual.layers_at(config.epochs - 1)
    return num_layers + 1 if enc.freeze == "none" else 0


def apply_freezing(model: MultiTaskModel, config: TrainConfig, epoch: int, stopped: set[str]) -> None:
    """Set requires_grad for this epoch from the strategy, the frozen heads and the stopped tasks.

    The strategy trains a tuned branch (copies of the blocks it tunes, made here once, sized for the whole
    run); the original blocks stay frozen and keep serving the base embedding.
    """
    strategy = config.encoder.freeze
    if strategy == "all":
        raise MtstError(
            "encoder.freeze is 'all': every weight is frozen, so training would learn nothing; "
            "use 'encoder' to train the heads only, 'gradual', or 'none'"
        )
    blocks = tuned_branch_blocks(config, model.encoder.num_layers)
    if blocks and strategy != "top":  # top: made below, once top_layers is checked
        model.encoder.add_tuned_branch(blocks)
    set_trainable(model, True)
    set_trainable(model.encoder.transformer, False)  # the base branch never learns
    if strategy == "encoder":
        freeze_encoder(model)
    elif strategy == "top":
        if config.encoder.top_layers >= model.encoder.num_layers:
            raise MtstError(
                f"encoder.top_layers is {config.encoder.top_layers} but the encoder has "
                f"{model.encoder.num_layers} blocks; use freeze: none to train them all"
            )
        unfreeze_top_layers(model, config.encoder.top_layers)
    elif strategy == "gradual":
        unfreeze_top_layers(model, config.encoder.gradual.layers_at(epoch))
    freeze_heads(model, list(config.encoder.frozen_heads) + sorted(stopped))


def make_batches(lengths: np.ndarray, batch_size: int, seed: int, epoch: int) -> list[np.ndarray]:
    """Shuffled batches of similar length: the same for a given seed and epoch, whatever ran before."""
    rng = np.random.default_rng([seed, epoch])
    order = rng.permutation(len(lengths))
    batches = []
    chunk = batch_size * CHUNK_BATCHES
    for start in range(0, len(order), chunk):
        part = order[start : start + chunk]
        part = part[np.argsort(lengths[part], kind="stable")]
        batches += [part[i : i + batch_size] for i in range(0, len(part), batch_size)]
    return [batches[i] for i in rng.permutation(len(batches))]


def lr_factor(step: int, total: int, warmup: int, schedule: str) -> float:
    if warmup and step < warmup:
        return (step + 1) / warmup
    if schedule == "constant":
        return 1.0
    progress = (step - warmup) / max(1, total - warmup)
    if schedule == "cosine":
        return 0.5 * (1 + math.cos(math.pi * min(1.0, progress)))
    return max(0.0, 1 - progress)


class StepModule(nn.Module):
    """One training step's forward as a single module, so DistributedDataParallel can wrap it.

    `embed` is a callable giving the batch's embeddings (cached rows, cached lower blocks, or the
    whole encoder); every head runs on them. The uncertainty weights live here so they sync too.
    """

    def __init__(self, model: MultiTaskModel, log_vars: nn.Parameter | None) -> None:
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
    """One split's inputs, made once: token ids, lengths, gold labels and (fast path) embeddings."""

    records: list[Record]
    ids: list[list[int]]
    lengths: np.ndarray
    gold: dict[str, np.ndarray]
    embeddings: torch.Tensor | None = None  # frozen encoder: the final embeddings
    hidden: list[torch.Tensor] | None = None  # frozen lower blocks: each text's token vectors below the top


class Trainer:
    """Trains a MultiTaskModel from a TrainConfig into an output folder."""

    def __init__(self, config: TrainConfig, output: str | Path, quiet: bool = False) -> None:
        self.config = config
        self.output = Path(output)
        self.quiet = quiet
        self.specs = config.specs()
        self.names = [s.name for s in self.specs]
        self.weights = {t.name: t.weight for t in config.tasks}
        self.fast = encoder_always_frozen(config) and config.encoder.cache_embeddings
        self.caching_seconds = 0.0
        self.cache_hidden = config.encoder.freeze == "top" and config.encoder.cache_embeddings

    # --- setup --------------------------------------------------------------------

    def load_data(self) -> tuple[list[Record], list[Record], list[Record] | None]:
        d = self.config.data
        train = load_records([d.train], self.specs)
        if d.dev:
            dev = load_records([d.dev], self.specs)
        else:
            train, dev = stratified_split(train, d.dev_fraction, self.config.seed)
        test = load_records([d.test], self.specs) if d.test else None
        trainable = [n for n in self.names if n not in self.config.encoder.frozen_heads]
        for name in trainable:
            if not any(name in r.labels for r in train):
                raise MtstError(f"task {name!r} has no labelled record in the training data ({d.train})")
            if not any(name in r.labels for r in dev):
                raise MtstError(f"task {name!r} has no labelled record in the dev data; early stopping needs some")
        return train, dev, test

    def prepare(self, records: list[Record]) -> Split:
        ids, cut = self.model.encoder.tokenize([r.text for r in records])
        self.model.encoder.warn_truncated(cut, len(records))
        split = Split(records, ids, np.array([len(i) for i in ids]), label_matrix(records, self.specs))
        began = time.perf_counter()
        if self.fast:
            texts = [r.text for r in records]
            if not self.world.is_main:
                self.world.barrier()  # the main process embeds and fills the disk cache; the others read it
            emb = cached_encode(self.model.encoder, texts, self.fingerprint, not self.quiet)
            if self.world.is_main:
                self.world.barrier()
            split.embeddings = torch.from_numpy(emb).to(self.model.device)
        elif self.cache_hidden:
            split.hidden = self.model.encoder.lower_block_outputs(ids, self.frozen_blocks(), not self.quiet)
        self.caching_seconds += time.perf_counter() - began
        return split

    def frozen_blocks(self) -> int:
        return self.model.encoder.num_layers - self.config.encoder.top_layers

    def make_optimizer(self) -> None:
        cfg = self.config
        decay, no_decay = [], []
        tuned = self.model.encoder.tuned  # the base branch is frozen and stays out of the optimiser
        for p in tuned.parameters() if tuned is not None else []:
            (no_decay if p.ndim < 2 else decay).append(p)  # no decay for biases and LayerNorm
        groups = [
            {"name": "encoder", "params": decay, "lr": cfg.encoder.lr, "weight_decay": cfg.optimizer.weight_decay},
            {"name": "encoder_no_decay", "params": no_decay, "lr": cfg.encoder.lr, "weight_decay": 0.0},
        ]
        for t in cfg.tasks:
            groups.append(
                {
                    "name": t.name,
                    "params": list(self.model.heads[t.name].parameters()),
                    "lr": t.lr,
                    "weight_decay": cfg.optimizer.weight_decay,
                }
            )
        if self.log_vars is not None:
            groups.append({"name": "loss_weights", "params": [self.log_vars], "lr": 1e-2, "weight_decay": 0.0})
        self.optimizer = torch.optim.AdamW(groups)
        total = cfg.epochs * len(make_batches(self.train.lengths, cfg.batch_size, cfg.seed, 0))
        warmup = int(cfg.optimizer.warmup_ratio * total)
        self.scheduler = torch.optim.lr_scheduler.LambdaLR(
            self.optimizer, lambda step: lr_factor(step, total, warmup, cfg.optimizer.schedule)
        )

    # --- one epoch ----------------------------------------------------------------

    def embed(self, split: Split, index: np.ndarray) -> torch.Tensor:
        if split.embeddings is not None:
            return split.embeddings[torch.as_tensor(index)]
        if split.hidden is not None:
            rows = [split.hidden[i] for i in index]
            padded = nn.utils.rnn.pad_sequence(rows, batch_first=True)
            mask = torch.zeros(padded.shape[:2], dtype=torch.long, device=padded.device)
            for row, t in enumerate(rows):
                mask[row, : len(t)] = 1
            return self.model.encoder.forward_from(self.frozen_blocks(), padded, mask)
        batch = self.model.encoder.collate([split.ids[i] for i in index])
        return self.model.encoder.features(**batch)

    def task_weight(self, position: int, name: str) -> torch.Tensor | float:
        if self.log_vars is not None:
            return torch.exp(-self.log_vars[position])
        return self.weights[name]

    def train_epoch(self, epoch: int) -> dict:
        cfg, model = self.config, self.model
        model.train()
        if encoder_always_frozen(cfg):
            model.encoder.eval()  # a frozen encoder gives the same, dropout-free vectors as the cache
        elif cfg.encoder.freeze == "top":
            model.encoder.eval()  # frozen lower blocks: fixed, dropout-free features, as in the cache
            for block in encoder_layers(model)[self.frozen_blocks() :]:
                block.train()
        active = [n for n in self.names if n not in self.stopped and n not in cfg.encoder.frozen_heads]
        loss_sum = dict.fromkeys(active, 0.0)
        grad_sum = dict.fromkeys(active, 0.0)
        steps = dict.fromkeys(active, 0)
        world = self.world
        batches = make_batches(self.train.lengths, cfg.batch_size, cfg.seed, epoch)
        if world.distributed:  # every process draws the same global batches; each keeps its share
            batches = [b for b in batches if len(b) >= world.size]
        step = self.step_runner()
        for full in tqdm(batches, desc=f"epoch {epoch + 1}", leave=False, disable=self.quiet, unit="batch"):
            index = world.shard(full)
            emb, logits = step(lambda index=index: self.embed(self.train, index))
            # Every head joins the graph, so data-parallel training sees the same parameters each step.
            total = sum(v.sum() for v in logits.values()) * 0.0
            weighted = {}
            for position, name in enumerate(self.names):
                if name not in active:
                    continue
                labelled = int((self.train.gold[name][full] != IGNORE_INDEX).sum())
                if not labelled:
                    continue
                gold = torch.as_tensor(self.train.gold[name][index], device=emb.device)
                # The mean over the whole global batch's labelled records, whichever process holds them:
                # DDP averages gradients over processes, so each one's sum is scaled by the world size.
                summed = F.cross_entropy(logits[name].float(), gold, ignore_index=IGNORE_INDEX, reduction="sum")
                loss = summed / labelled
                weighted[name] = self.task_weight(position, name) * loss * world.size
                total = total + weighted[name]
                if self.log_vars is not None:
                    total = total + 0.5 * self.log_vars[position]
                loss_sum[name] += loss.item()
                steps[name] += 1 / world.size
            for name, value in weighted.items():
                (g,) = torch.autograd.grad(value / world.size, emb, retain_graph=True)
                grad_sum[name] += g.norm().item() / world.size
            self.optimizer.zero_grad(set_to_none=True)
            total.backward()
            nn.utils.clip_grad_norm_([p for p in self.trainable_params()], cfg.optimizer.grad_clip)
            self.optimizer.step()
            self.scheduler.step()
        totals = self.world.sum([v for n in active for v in (loss_sum[n], grad_sum[n], steps[n])])
        stats = {}
        for i, name in enumerate(active):
            loss, grad, count = totals[3 * i : 3 * i + 3]
            stats[name] = {"train_loss": loss / max(1, count), "grad_norm": grad / max(1, count)}
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

    def trainable_params(self):
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
                logits = model.head_logits(self.embed(split, index))
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

    # --- early stopping -----------------------------------------------------------

    def update_early_stopping(self, dev: dict, epoch: int) -> None:
        cfg = self.config
        for name in self.names:
            if name in self.stopped or name in cfg.encoder.frozen_heads or name not in dev:
                continue
            f1 = dev[name]["macro_f1"]
            if f1 > self.best_f1.get(name, -1.0):
                self.best_f1[name] = f1
                self.best_epoch[name] = epoch
                self.best_heads[name] = copy.deepcopy(self.model.heads[name].state_dict())
                self.bad_epochs[name] = 0
            else:
                self.bad_epochs[name] = self.bad_epochs.get(name, 0) + 1
                if self.bad_epochs[name] >= cfg.patience:
                    self.stopped.add(name)
                    self.model.heads[name].load_state_dict(self.best_heads[name])
                    log.info("task %s stopped after epoch %d (best macro-F1 %.4f)", name, epoch + 1, self.best_f1[name])
        scored = [dev[n]["macro_f1"] for n in self.names if n in dev]
        mean_f1 = float(np.mean(scored)) if scored else 0.0
        if not encoder_always_frozen(cfg) and mean_f1 > self.best_mean:
            self.best_mean = mean_f1
            self.best_mean_epoch = epoch
            self.best_snapshot = {k: v.detach().cpu().clone() for k, v in self.model.state_dict().items()}

    def restore_best(self) -> None:
        """Frozen encoder: each head's best epoch. Trained encoder: the whole model at the best mean macro-F1."""
        if self.best_snapshot is not None:
            self.model.load_state_dict(self.best_snapshot)
        else:
            for name, state in self.best_heads.items():
                self.model.heads[name].load_state_dict(state)

    # --- checkpoints --------------------------------------------------------------

    def checkpoint_state(self, epoch: int) -> dict:
        model_state = self.model.heads.state_dict() if encoder_always_frozen(self.config) else self.model.state_dict()
        return {
            "epoch": epoch,
            "config": self.config.model_dump(),
            "model": model_state,
            "log_vars": self.log_vars,
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict(),
            "early_stopping": {
                "best_f1": self.best_f1,
                "best_epoch": self.best_epoch,
                "best_heads": self.best_heads,
                "bad_epochs": self.bad_epochs,
                "stopped": sorted(self.stopped),
                "best_mean": self.best_mean,
                "best_mean_epoch": self.best_mean_epoch,
                "best_snapshot": self.best_snapshot,
            },
            "torch_rng": torch.get_rng_state(),
            "history": self.history,
        }

    def write_checkpoint(self, epoch: int) -> None:
        if not self.world.is_main:
            return
        path = self.output / CHECKPOINT
        partial = path.with_suffix(f".{os.getpid()}.tmp")
        torch.save(self.checkpoint_state(epoch), partial)
        os.replace(partial, path)  # atomic: a kill leaves the previous checkpoint whole

    def load_checkpoint(self) -> int:
        path = self.output / CHECKPOINT
        try:
            state = torch.load(path, map_location=self.model.device, weights_only=False)
        except (OSError, RuntimeError, EOFError) as err:
            raise MtstError(f"cannot resume: {path} is unreadable ({err}); start again without --resume") from None
        if state["config"] != self.config.model_dump():
            raise MtstError(f"cannot resume: {path} was made with a different config; use the same --config")
        if encoder_always_frozen(self.config):
            self.model.heads.load_state_dict(state["model"])
        else:
            self.model.load_state_dict(state["model"])
        if self.log_vars is not None:
            self.log_vars.data.copy_(state["log_vars"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.scheduler.load_state_dict(state["scheduler"])
        es = state["early_stopping"]
        self.best_f1, self.best_epoch, self.best_heads = es["best_f1"], es["best_epoch"], es["best_heads"]
        self.bad_epochs, self.stopped = es["bad_epochs"], set(es["stopped"])
        self.best_mean, self.best_mean_epoch, self.best_snapshot = (
            es["best_mean"],
            es["best_mean_epoch"],
            es["best_snapshot"],
        )
        torch.set_rng_state(state["torch_rng"])
        self.history = state["history"]
        return state["epoch"] + 1

    # --- the run ------------------------------------------------------------------

    def fit(self, resume: bool = False) -> dict:
        cfg = self.config
        self.output.mkdir(parents=True, exist_ok=True)
        if resume and not (self.output / CHECKPOINT).exists():
            if (self.output / "metrics.json").exists():
                log.info("the run in %s is already complete", self.output)
                return json.loads((self.output / "metrics.json").read_text())
            raise MtstError(f"cannot resume: no {CHECKPOINT} in {self.output}; start without --resume")
        self.world, device = join_world(cfg.device)
        self.quiet = self.quiet or not self.world.is_main
        seed_everything(cfg.seed)
        self.model = build_model(cfg, device)
        if self.model.device.type == "cuda" and torch.cuda.is_bf16_supported():
            self.model.encoder.precision = "bf16"
        apply_freezing(self.model, cfg, 0, set())  # fail fast on 'all' before any work
        self.fingerprint = encoder_fingerprint(self.model.encoder) if self.fast else None
        train, dev, test = self.load_data()
        self.train, self.dev = self.prepare(train), self.prepare(dev)
        self.test_records = test
        self.log_vars = (
            nn.Parameter(torch.zeros(len(self.names), device=self.model.device))
            if cfg.loss_weighting == "uncertainty"
            else None
        )
        self.step_module = StepModule(self.model, self.log_vars)
        self.make_optimizer()
        self.best_f1, self.best_epoch, self.best_heads, self.bad_epochs = {}, {}, {}, {}
        self.stopped: set[str] = set()
        self.best_mean, self.best_mean_epoch, self.best_snapshot = -1.0, -1, None
        self.history: list[dict] = []
        start = self.load_checkpoint() if resume else 0
        if not resume and self.world.is_main:
            (self.output / CHECKPOINT).unlink(missing_ok=True)

        trainable = [n for n in self.names if n not in cfg.encoder.frozen_heads]
        bar = tqdm(
            range(start, cfg.epochs), desc="training", disable=self.quiet, unit="epoch", initial=start, total=cfg.epochs
        )
        for epoch in bar:
            if all(n in self.stopped for n in trainable):
                break
            began = time.perf_counter()
            apply_freezing(self.model, cfg, epoch, self.stopped)
            lrs = {g["name"]: g["lr"] for g in self.optimizer.param_groups}
            train_stats = self.train_epoch(epoch)
            dev_stats = self.evaluate_split(self.dev)
            self.update_early_stopping(dev_stats, epoch)
            self.history.append(self.history_row(epoch, train_stats, dev_stats, lrs, time.perf_counter() - began))
            self.write_history()
            bar.set_postfix({n: f"{dev_stats[n]['macro_f1']:.3f}" for n in dev_stats})
            self.write_checkpoint(epoch)
        # Only the main process evaluates on test and writes the model; the others wait for it.
        self.restore_best()
        dev = self.evaluate_split(self.dev)  # every process takes part: the scores are gathered
        if self.world.is_main:
            self.finish(dev)
        self.world.barrier()
        self.world.close()
        return json.loads((self.output / "metrics.json").read_text())

    def history_row(self, epoch: int, train_stats: dict, dev_stats: dict, lrs: dict, seconds: float) -> dict:
        tasks = {}
        for name in self.names:
            row = {"stopped": name in self.stopped}
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

    def write_history(self) -> None:
        if not self.world.is_main:
            return
        path = self.output / HISTORY
        partial = path.with_suffix(".tmp")
        partial.write_text("".join(json.dumps(row) + "\n" for row in self.history))
        os.replace(partial, path)

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
        from mtst.metrics import save_confusion_png
        from mtst.plots import save_learning_curves

        for name in self.names:
            if name not in self.config.encoder.frozen_heads:
                self.model.trained[name] = True
        metrics = {
            "epochs_run": len(self.history),
            "best_epoch": {n: e + 1 for n, e in self.best_epoch.items()},
            "dev": {"tasks": dev},
            "trainable_parameters": trainable_report(self.model),
        }
        if self.test_records is not None:
            metrics["test"] = evaluate(self.model, self.test_records)
        final = metrics.get("test", metrics["dev"])
        self.choose_embedding()
        card_metrics = {"split": "test" if "test" in metrics else "dev", **summary(final)}
        self.model.save(self.output, metrics=card_metrics)
        (self.output / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
        save_learning_curves(self.history, self.output / "learning_curves.png")
        for name, m in final["tasks"].items():
            save_confusion_png(m, f"{name} ({card_metrics['split']})", self.output / f"confusion_{name}.png")
        # Wall-clock time apart from metrics.json, which a resumed run must reproduce exactly.
        timing = {"caching": self.caching_seconds, "epochs": sum(row["seconds"] for row in self.history)}
        (self.output / "timing.json").write_text(json.dumps(timing, indent=2) + "\n")
        (self.output / CHECKPOINT).unlink(missing_ok=True)
        return metrics


def train(config: TrainConfig, output: str | Path, resume: bool = False, quiet: bool = False) -> dict:
    """Train from a config into `output`; returns the metrics written to output/metrics.json."""
    return Trainer(config, output, quiet=quiet).fit(resume=resume)


__all__ = ["Trainer", "train", "build_model", "apply_freezing", "make_batches", "make_head"]
