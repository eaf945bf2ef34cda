"""Where a batch's sentence embeddings come from, one source per freezing strategy.

- `CachedEmbeddings` (freeze: encoder): the frozen encoder's vectors, computed once (and kept on disk).
- `CachedLowerBlocks` (freeze: top): the frozen lower blocks' token vectors, computed once; each step
  runs only the trainable top blocks on them.
- `WholeEncoder` (everything else, or caching turned off): the whole encoder every step.

Each is called with row indices of its split and returns (rows, dim) embeddings.
"""

from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

from mtst.cache import cached_encode


class CachedEmbeddings:
    def __init__(self, embeddings: torch.Tensor) -> None:
        self.embeddings = embeddings

    def __call__(self, index: np.ndarray) -> torch.Tensor:
        return self.embeddings[torch.as_tensor(index)]


class CachedLowerBlocks:
    def __init__(self, encoder, hidden: list[torch.Tensor], layer: int) -> None:
        self.encoder, self.hidden, self.layer = encoder, hidden, layer

    def __call__(self, index: np.ndarray) -> torch.Tensor:
        rows = [self.hidden[i] for i in index]
        padded = nn.utils.rnn.pad_sequence(rows, batch_first=True)
        mask = torch.zeros(padded.shape[:2], dtype=torch.long, device=padded.device)
        for row, t in enumerate(rows):
            mask[row, : len(t)] = 1
        return self.encoder.forward_from(self.layer, padded, mask)


class WholeEncoder:
    def __init__(self, encoder, ids: Sequence[list[int]]) -> None:
        self.encoder, self.ids = encoder, ids

    def __call__(self, index: np.ndarray) -> torch.Tensor:
        return self.encoder.features(**self.encoder.collate([self.ids[i] for i in index]))


def feature_source(config, encoder, texts: Sequence[str], ids, world, fingerprint: str | None, progress: bool):
    """The source the config's strategy calls for, with its one-off work (embedding, lower blocks) done."""
    strategy, cache = config.encoder.freeze, config.encoder.cache_embeddings
    if strategy == "encoder" and cache:
        if not world.is_main:
            world.barrier()  # the main process embeds and fills the disk cache; the others read it
        embeddings = cached_encode(encoder, list(texts), fingerprint, progress)
        if world.is_main:
            world.barrier()
        return CachedEmbeddings(torch.from_numpy(embeddings).to(encoder.device))
    if strategy == "top" and cache:
        layer = encoder.num_layers - config.encoder.top_layers
        return CachedLowerBlocks(encoder, encoder.lower_block_outputs(ids, layer, progress), layer)
    return WholeEncoder(encoder, ids)
