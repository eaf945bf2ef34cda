"""MultiTaskModel: one SentenceEncoder shared by a ModuleDict of classification heads.

One encoder pass serves the embedding (the base branch) and every head (the tuned branch's features).
Saved models are Hugging Face folders of the base encoder that sentence-transformers can open too, with
the tuned branch (mtst.branch) and the heads beside it.
"""

import json
import logging
import shutil
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file, save_file
from torch import nn

from mtst.branch import BASE, load_branch, save_branch
from mtst.calibration import scaled_softmax
from mtst.encoder import SentenceEncoder, check_model_folder
from mtst.errors import MtstError
from mtst.folders import replace_folder, staging_folder
from mtst.inputs import validate_texts
from mtst.outputs import Outputs, Prediction, check_tasks, predict_with, to_predictions
from mtst.precision import settle_auto_precision
from mtst.routing import Given, check_applies_when
from mtst.tasks import DEFAULT_TASKS, TaskFile, TaskSpec, read_task_file, write_task_file
from mtst.truncation import head_tail_split

log = logging.getLogger("mtst")

HEADS_FILE = "heads.safetensors"
TASKS_FILE = "tasks.json"
METRICS_FILE = "metrics.json"


def make_head(dim: int, spec: TaskSpec) -> nn.Module:
    """Linear(dim, n_labels), or a hidden layer with dropout first when spec.hidden is set."""
    if spec.hidden is None:
        return nn.Linear(dim, len(spec.labels))
    return nn.Sequential(
        nn.Linear(dim, spec.hidden), nn.GELU(), nn.Dropout(spec.dropout), nn.Linear(spec.hidden, len(spec.labels))
    )


class MultiTaskModel(nn.Module):
    """A shared sentence encoder plus one classification head per task."""

    def __init__(self, encoder: SentenceEncoder | None = None, tasks: Sequence[TaskSpec] = DEFAULT_TASKS) -> None:
        super().__init__()
        self.encoder = encoder if encoder is not None else SentenceEncoder()
        self.tasks = {spec.name: spec for spec in tasks}
        if len(self.tasks) != len(tasks):
            raise MtstError(f"task names must be unique, got {[t.name for t in tasks]}")
        check_applies_when(tasks)
        self.heads = nn.ModuleDict({spec.name: make_head(self.encoder.dim, spec) for spec in tasks})
        self.heads.to(self.encoder.device)
        # Which heads have been trained; untrained heads are never passed off as predictions.
        self.trained = {name: False for name in self.tasks}
        self.eval()  # inference by default; the trainer switches to train mode itself

    @property
    def device(self) -> torch.device:
        return self.encoder.device

    def check_tasks(self, tasks: Sequence[str] | None) -> list[str]:
        return check_tasks(tasks, self.tasks)

    def head_logits(self, embeddings: torch.Tensor, tasks: Sequence[str] | None = None) -> dict[str, torch.Tensor]:
        """Each requested head's logits for already-computed features (encoder.features / encode_features)."""
        return {name: self.heads[name](embeddings) for name in self.check_tasks(tasks)}

    def forward(
        self, input_ids: torch.Tensor, attention_mask: torch.Tensor, tasks: Sequence[str] | None = None, **extra
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """The served embedding and a dict of logits keyed by task name, from one encoder pass."""
        embeddings, features = self.encoder.forward_both(input_ids, attention_mask, **extra)
        return embeddings, self.head_logits(features, tasks)

    # --- inference ----------------------------------------------------------------

    def token_counts(self, texts: Sequence[str]) -> list[int]:
        """Tokens each text takes after truncation (for batching by a token budget)."""
        return [len(ids) for ids in self.encoder.tokenize(list(texts))[0]]

    def run(
        self, texts: Sequence[str], tasks: Sequence[str] | None = None, batch_size: int = 32, embeddings: bool = True
    ) -> Outputs:
        """Embeddings and every requested task's probabilities, one encoder pass per batch.

        embeddings=False: labels only; the base branch, which only the served embedding needs, is not run
        (with two tuned blocks that is a quarter of the work) and Outputs.embeddings is None.
        """
        names = self.check_tasks(tasks)
        texts = validate_texts(texts)
        enc = self.encoder
        vectors = np.zeros((len(texts), enc.dim), dtype=np.float32) if embeddings else None
        probs = {n: np.zeros((len(texts), len(self.tasks[n].labels)), dtype=np.float32) for n in names}
        if not texts:
            return Outputs(vectors, probs)
        ids, cut = enc.tokenize(texts)
        enc.warn_truncated(cut, len(texts))

        def score(index: list[int]) -> None:
            batch = enc.collate([ids[i] for i in index])
            if vectors is None:
                logits = self.head_logits(enc.features(**batch), names)
            else:
                emb, logits = self(**batch, tasks=names)
                vectors[index] = emb.cpu().numpy()
            for n in names:
                probs[n][index] = scaled_softmax(logits[n].float().cpu().numpy(), self.tasks[n].temperature)

        was_training = self.training
        self.eval()
        try:
            enc.run_batches(ids, batch_size, score)
        finally:
            self.train(was_training)
        return Outputs(vectors, probs)

    def encode(self, texts: Sequence[str], batch_size: int = 32) -> np.ndarray:
        """The served embeddings only: an (n, dim) float32 array in the caller's order."""
        return self.encoder.encode(texts, batch_size=batch_size)

    def describe(self) -> dict:
        """What runs: backend, precision, and which embedding is served (mtst.backend.Backend)."""
        return {"backend": "torch", "precision": self.encoder.precision, **self.encoder.describe()}

    def predictions(
        self, outputs: Outputs, given: Given | Sequence[Given] | None = None
    ) -> list[dict[str, Prediction]]:
        """Turn probability arrays into a label, score and distribution per text and task (mtst.outputs)."""
        return to_predictions(outputs, self.tasks, given, self.trained)

    def predict(
        self,
        texts: Sequence[str],
        tasks: Sequence[str] | None = None,
        batch_size: int = 32,
        given: Given | Sequence[Given] | None = None,
    ) -> list[dict[str, Prediction]]:
        """For each text and each requested task: the label, its probability and the full distribution.

        given: labels the caller knows, e.g. {"text_kind": "search_query"} (one dict for all texts, or one per
        text); they replace the prediction and decide which heads apply.
        """
        return predict_with(self, texts, tasks, batch_size, given)

    # --- save and load ------------------------------------------------------------

    def save(self, directory: str | Path, metrics: dict | None = None) -> Path:
        """Write the model folder so that a crash at any moment leaves a loadable model there.

        The new model is written in full beside the folder, then exchanged with it in one atomic step
        (mtst.folders); other files already in the folder (a training run's history and plots) are kept.
        """
        target = Path(directory)
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = staging_folder(target, "saving")
        try:
            self._write(staging, metrics)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        return replace_folder(staging, target)

    def _write(self, folder: Path, metrics: dict | None) -> None:
        enc = self.encoder
        enc.transformer.save_pretrained(folder, safe_serialization=True)
        enc.tokenizer.save_pretrained(folder)
        write_sentence_transformers_files(folder, enc.dim, enc.max_length)
        save_branch(enc, folder)
        heads = {k: v.detach().cpu().contiguous() for k, v in self.heads.state_dict().items()}
        save_file(heads, folder / HEADS_FILE)
        write_task_file(
            folder / TASKS_FILE, TaskFile(list(self.tasks.values()), dict(self.trained), enc.max_length, enc.truncation)
        )
        if metrics is not None:
            (folder / METRICS_FILE).write_text(json.dumps(metrics, indent=2) + "\n")
        (folder / "README.md").write_text(model_card(self, metrics))

    @classmethod
    def load(
        cls,
        directory: str | Path,
        device: str | torch.device | None = None,
        precision: str = "fp32",
        streams: int | None = None,
    ) -> "MultiTaskModel":
        """Open a folder written by save(); raises MtstError naming the path if it is not one.

        streams: batches run at once on CPU (default: one per core; 1 runs one batch on every core).
        """
        folder = Path(directory)
        check_model_folder(folder)
        task_file = read_task_file(folder / TASKS_FILE)
        encoder = SentenceEncoder(
            folder,
            max_length=task_file.max_length,
            device=device,
            precision=precision,
            streams=streams,
            truncation=task_file.truncation,
        )
        load_branch(encoder, folder)
        model = cls(encoder, task_file.tasks)
        try:
            state = load_file(folder / HEADS_FILE, device=str(model.device))
            model.heads.load_state_dict(state)
        except (OSError, RuntimeError) as err:
            raise MtstError(f"could not load the heads from {folder / HEADS_FILE}: {err}") from err
        model.trained = {name: task_file.trained.get(name, False) for name in model.tasks}
        model.eval()
        if precision == "auto":
            settle_auto_precision(model)  # the heads too: bf16 stays only if they answer as in fp32
        return model


def write_sentence_transformers_files(folder: Path, dim: int, max_length: int) -> None:
    """The files that let sentence_transformers.SentenceTransformer(folder) open the encoder."""
    modules = [
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
        {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
    ]
    (folder / "modules.json").write_text(json.dumps(modules, indent=2) + "\n")
    (folder / "sentence_bert_config.json").write_text(
        json.dumps({"max_seq_length": max_length, "do_lower_case": False}, indent=2) + "\n"
    )
    pooling = {
        "word_embedding_dimension": dim,
        "pooling_mode_cls_token": False,
        "pooling_mode_mean_tokens": True,
        "pooling_mode_max_tokens": False,
        "pooling_mode_mean_sqrt_len_tokens": False,
    }
    (folder / "1_Pooling").mkdir(exist_ok=True)
    (folder / "1_Pooling" / "config.json").write_text(json.dumps(pooling, indent=2) + "\n")
    (folder / "2_Normalize").mkdir(exist_ok=True)


def model_card(model: MultiTaskModel, metrics: dict | None) -> str:
    """A short README.md for the model folder: what it does and how well."""
    lines = [
        "---",
        "library_name: mtst",
        "tags: [sentence-transformers, text-classification, multi-task]",
        "---",
        "",
        "# mtst multi-task model",
        "",
        f"Encoder: mean-pooled, L2-normalised {model.encoder.dim}-dimensional sentence embeddings "
        f"(at most {model.encoder.max_length} tokens per text), shared by {len(model.tasks)} heads.",
        *truncation_card(model.encoder),
        "",
        *embedding_card(model.encoder),
        "",
        "| task | labels | trained |",
        "|---|---|---|",
    ]
    for name, spec in model.tasks.items():
        lines.append(f"| `{name}` | {', '.join(spec.labels)} | {'yes' if model.trained[name] else 'no'} |")
    task_metrics = (metrics or {}).get("tasks", {})
    if task_metrics:
        split = (metrics or {}).get("split", "evaluation")
        lines += ["", f"## Metrics ({split})", "", "| task | accuracy | macro-F1 | n |", "|---|---|---|---|"]
        for name, m in task_metrics.items():
            lines.append(f"| `{name}` | {m['accuracy']:.4f} | {m['macro_f1']:.4f} | {m['n']} |")
    lines += [
        "",
        "## Use",
        "",
        "```python",
        "from mtst.model import MultiTaskModel",
        "model = MultiTaskModel.load('THIS_FOLDER')",
        "model.predict(['Earn 500 bonus points on any Tide purchase'])",
        "```",
        "",
        "The folder also opens in sentence-transformers (`SentenceTransformer('THIS_FOLDER')`); it gives the "
        "base encoder's embeddings"
        + (", not the tuned ones this model serves." if model.encoder.serves_tuned() else "."),
        "",
    ]
    return "\n".join(lines)


def truncation_card(encoder: SentenceEncoder) -> list[str]:
    """A longer text keeps its head and its tail here; sentence-transformers, loading this folder, keeps the head."""
    if encoder.truncation == "head":
        return []
    head, tail = head_tail_split(encoder.max_length)
    return [
        f"A text longer than {encoder.max_length} tokens keeps its first {head} and last {tail} "
        "(a long receipt keeps its header and its total); sentence-transformers, loading this folder, keeps the "
        "first ones only, so its embeddings of such texts differ from mtst's."
    ]


def stsb_text(stsb: dict | None) -> str:
    if not stsb:
        return "STS-B: not measured"
    return f"STS-B {stsb['split']} Spearman x100: {stsb['spearman_x100']:.2f} ({stsb['pairs']} pairs)"


def embedding_card(encoder: SentenceEncoder) -> list[str]:
    """The model card's lines on the two branches and the embedding this model serves."""
    info = encoder.describe()
    blocks = info["tuned_blocks"]
    if not blocks:
        lines = ["The heads read the encoder's own embedding: one branch, nothing tuned."]
    else:
        whole = info["tuned_embeddings_layer"]
        lines = [
            f"Branches: the heads read a tuned branch ({blocks} fine-tuned blocks"
            + (
                " and embeddings layer, a whole second encoder"
                if whole
                else f" on a shared trunk of {encoder.split} blocks"
            )
            + "); the embedding comes from the base branch (the original blocks), in the same pass.",
            "",
            "Cost per pass: about "
            + (
                "the encoder alone (serving the tuned embedding, the base branch is not run)."
                if encoder.serves_tuned()
                else "2x the encoder alone (nothing is shared)."
                if whole
                else f"{(encoder.num_layers + blocks) / encoder.num_layers:.2f}x the encoder alone "
                f"({encoder.num_layers} + {blocks} blocks)."
            ),
        ]
    if encoder.embedding == BASE:
        lines += ["", "Served embedding: **base**, the original encoder's own (all-MiniLM-L6-v2 unless another)."]
    else:
        lines += [
            "",
            "Served embedding: **tuned** - NOT the original encoder's vector space; vectors indexed with the base "
            f"model do not compare with these. {stsb_text(encoder.stsb)}.",
        ]
    return lines
