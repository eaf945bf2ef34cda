"""The frozen-encoder embedding cache: one entry per input that can change the vectors."""

import numpy as np
import torch

from mtst.cache import cached_encode


class CountingEncoder:
    """Stands in for a SentenceEncoder: what the cache key reads, and an encode that counts its calls."""

    dim = 4
    max_length = 32

    def __init__(self, precision="fp32", device="cpu", truncation="head"):
        self.precision, self.device, self.truncation, self.calls = precision, torch.device(device), truncation, 0

    def encode(self, texts, batch_size=64, show_progress=False):
        self.calls += 1
        value = {"fp32": 1.0, "bf16": 2.0}[self.precision] + 10 * (self.device.type == "cuda")
        value += 100 * (self.truncation == "head_tail")
        return np.full((len(texts), self.dim), value, dtype=np.float32)


def test_precisions_devices_and_cuts_never_share_cached_embeddings():
    texts = ["a receipt", "an offer"]
    seen = {}
    setups = [("fp32", "cpu"), ("bf16", "cpu"), ("fp32", "cuda:0"), ("bf16", "cuda:1")]
    for precision, device in setups:
        encoder = CountingEncoder(precision, device)
        seen[(precision, device)] = cached_encode(encoder, texts, fingerprint="same-weights")[0, 0]
        assert encoder.calls == 1, (precision, device)  # computed, not read from another setup's entry
    head_tail = CountingEncoder("fp32", "cpu", truncation="head_tail")
    seen["head_tail"] = cached_encode(head_tail, texts, fingerprint="same-weights")[0, 0]
    assert head_tail.calls == 1  # a long text cut another way embeds differently: its own entry
    assert len(set(seen.values())) == 5
    again = CountingEncoder("bf16", "cpu")
    assert cached_encode(again, texts, fingerprint="same-weights")[0, 0] == seen[("bf16", "cpu")]
    assert again.calls == 0  # the same setup is read back
