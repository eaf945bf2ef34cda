"""precision="bf16": autocast where the CPU does bf16 natively, else fp32 with one warning."""

import logging

import numpy as np
import pytest
import torch

from mtst import device
from mtst.encoder import SentenceEncoder
from mtst.errors import MtstError

TEXTS = [
    "Earn 500 bonus points on any Tide purchase this weekend",
    "huggies size 4",
    "KROGER #0412\nMILK 2% GAL 3.49\nTOTAL 23.17",
    "My points never showed up for the receipt I scanned Tuesday",
]


def cpu_with(monkeypatch, flags: set[str]) -> None:
    """Pretend the CPU reports exactly these /proc/cpuinfo flags."""
    monkeypatch.setattr(device, "_cpu_flags", lambda: frozenset(flags))


def bf16_warnings(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "mtst" and "bf16" in r.getMessage()]


def test_bf16_support_follows_the_cpu_flags(monkeypatch):
    cpu = torch.device("cpu")
    cpu_with(monkeypatch, {"avx2", "fma"})
    assert not device.bf16_supported(cpu)
    for flag in ("avx512_bf16", "amx_bf16"):
        cpu_with(monkeypatch, {"avx2", flag})
        assert device.bf16_supported(cpu)


def test_bf16_without_native_support_runs_fp32_with_one_warning(monkeypatch, caplog, encoder):
    cpu_with(monkeypatch, {"avx2", "fma"})  # this project's CI machine: AVX2, no bf16
    with caplog.at_level(logging.WARNING, logger="mtst"):
        fallback = SentenceEncoder(precision="bf16", device="cpu")
        out = fallback.encode(TEXTS)
        fallback.encode(TEXTS)
    assert fallback.precision == "fp32"
    warnings = bf16_warnings(caplog)
    assert len(warnings) == 1  # at load time, not once per call
    assert "fp32" in warnings[0]
    # The fallback is the exact fp32 path, not an approximation of it.
    np.testing.assert_allclose(out, encoder.encode(TEXTS), atol=1e-6)


def test_bf16_autocast_stays_close_to_fp32(monkeypatch, caplog, encoder):
    # Where the CPU has bf16 the encoder autocasts; torch emulates bf16 elsewhere, so the path runs here too.
    cpu_with(monkeypatch, {"avx2", "avx512_bf16"})
    with caplog.at_level(logging.WARNING, logger="mtst"):
        bf16 = SentenceEncoder(precision="bf16", device="cpu")
    assert bf16.precision == "bf16"
    assert not bf16_warnings(caplog)
    linear = next(m for m in bf16.transformer.modules() if isinstance(m, torch.nn.Linear))
    seen: list[torch.dtype] = []
    hook = linear.register_forward_hook(lambda _m, _i, output: seen.append(output.dtype))
    out = bf16.encode(TEXTS)
    hook.remove()
    assert seen and set(seen) == {torch.bfloat16}  # the matrix work really ran in bf16
    assert out.dtype == np.float32  # pooling and normalisation stay fp32
    np.testing.assert_allclose(np.linalg.norm(out, axis=1), 1.0, atol=1e-5)
    cosine = (out * encoder.encode(TEXTS)).sum(axis=1)
    assert cosine.min() > 0.9999
    assert not np.array_equal(out, encoder.encode(TEXTS))


def test_unknown_precision_is_refused():
    with pytest.raises(MtstError, match="fp32, bf16"):
        device.resolve_precision("fp16", torch.device("cpu"))
