"""On-disk cache of frozen-encoder embeddings, keyed by the texts, the encoder's weights, max length,
precision and device type (bf16 and fp32, or GPU and CPU kernels, give different vectors).

A frozen encoder always gives the same vector for the same text, so heads can
train on stored tensors instead of running the transformer every epoch.
"""

import hashlib
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch


def cache_dir() -> Path:
    return Path(os.environ.get("MTST_CACHE_DIR", Path.home() / ".cache" / "mtst" / "embeddings"))


def encoder_fingerprint(encoder) -> str:
    """A hash of every weight of the encoder, both branches: equal fingerprints mean equal features."""
    h = hashlib.sha256()
    for name, tensor in sorted(encoder.state_dict().items()):
        h.update(name.encode())
        h.update(tensor.detach().cpu().contiguous().view(torch.uint8).numpy().tobytes())
    return h.hexdigest()


def texts_hash(texts: Sequence[str]) -> str:
    h = hashlib.sha256()
    for text in texts:
        h.update(text.encode("utf-8"))
        h.update(b"\0")
    return h.hexdigest()


def embedding_setup(encoder) -> str:
    """Everything besides the weights that changes the vectors: max length and cut, precision, device type."""
    return f"{encoder.max_length}|{encoder.truncation}|{encoder.precision}|{torch.device(encoder.device).type}"


def cached_encode(encoder, texts: Sequence[str], fingerprint: str | None = None, show_progress: bool = False):
    """What the heads read for texts (encoder.encode_features; encode for an encoder without one), read from the
    cache when this exact input was embedded before."""
    fingerprint = fingerprint or encoder_fingerprint(encoder)
    key = hashlib.sha256(f"{texts_hash(texts)}|{fingerprint}|{embedding_setup(encoder)}".encode()).hexdigest()
    path = cache_dir() / f"{key[:40]}.npy"
    if path.is_file():
        try:
            stored = np.load(path)
            if stored.shape == (len(texts), encoder.dim):
                return stored
        except (OSError, ValueError):
            pass  # a damaged cache file is recomputed below
    encode = getattr(encoder, "encode_features", encoder.encode)
    embeddings = encode(texts, batch_size=64, show_progress=show_progress)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(f".{os.getpid()}.tmp")
    with open(partial, "wb") as f:
        np.save(f, embeddings)
    os.replace(partial, path)
    return embeddings
