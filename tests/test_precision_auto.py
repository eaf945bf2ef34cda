"""precision="auto": bf16 only where the hardware does it natively and a load-time check against fp32 passes.

The CPU flags are faked (this machine has no native bf16; torch emulates it, slowly but with the same
numbers), and a failing bf16 run is faked by disturbing what runs under bf16 autocast.
"""

import logging

import numpy as np
import pytest
import torch
from conftest import tiny_records
from fastapi.testclient import TestClient
from test_export import fit_heads

from mtst import device, precision
from mtst.encoder import SentenceEncoder
from mtst.errors import MtstError
from mtst.model import MultiTaskModel
from mtst.server import ServerSettings, create_app

TEXTS = [r["text"] for r in tiny_records()][:12]


def cpu_with(monkeypatch, flags: set[str]) -> None:
    monkeypatch.setattr(device, "_cpu_flags", lambda: frozenset(flags))


@pytest.fixture(scope="module")
def trained_dir(encoder, tmp_path_factory):
    model = MultiTaskModel(encoder)
    fit_heads(model, tiny_records())
    return model.save(tmp_path_factory.mktemp("auto") / "model")


@pytest.fixture
def short_check(monkeypatch):
    """The tiny set instead of the 100 built-in texts: emulated bf16 is slow on this CPU."""
    texts = [r["text"] for r in tiny_records()]
    monkeypatch.setattr(precision, "CHECK_TEXTS", texts)
    return texts


def disturb_bf16_runs(encoder: SentenceEncoder, scale: float) -> torch.utils.hooks.RemovableHandle:
    """Fake a bf16 kernel that computes badly: noise on the token embeddings whenever autocast is on."""
    generator = torch.Generator().manual_seed(0)

    def hook(_module, _inputs, output):
        if torch.is_autocast_enabled("cpu"):
            return output + scale * torch.randn(output.shape, generator=generator).to(output.dtype)
        return output

    return encoder.transformer.embeddings.register_forward_hook(hook)


def test_auto_choices_follow_the_hardware(monkeypatch):
    cpu = torch.device("cpu")
    cpu_with(monkeypatch, {"avx2", "fma"})
    chosen, reason = precision.initial_precision("auto", cpu)
    assert chosen == "fp32" and "no native bf16" in reason
    for flag in ("avx512_bf16", "amx_bf16"):
        cpu_with(monkeypatch, {"avx2", flag})
        chosen, reason = precision.initial_precision("auto", cpu)
        assert chosen == "bf16" and flag in reason and "not yet checked" in reason
    assert precision.initial_precision("fp32", cpu) == ("fp32", "fp32 as asked")
    with pytest.raises(MtstError, match="auto, fp32, bf16"):
        precision.initial_precision("int8", cpu)


def test_built_in_check_texts_allow_one_changed_prediction():
    assert len(precision.CHECK_TEXTS) >= 100  # so 99% agreement tolerates a single flipped text
    assert len(set(precision.CHECK_TEXTS)) == len(precision.CHECK_TEXTS)


def test_auto_without_native_bf16_is_exact_fp32_with_no_check(monkeypatch, caplog, trained_dir):
    cpu_with(monkeypatch, {"avx2", "fma"})
    monkeypatch.setattr(precision, "compare_bf16", lambda *a, **k: pytest.fail("no check without native bf16"))
    with caplog.at_level(logging.INFO, logger="mtst"):
        auto = MultiTaskModel.load(trained_dir, precision="auto")
    assert auto.encoder.precision == "fp32"
    assert any("precision fp32" in r.getMessage() and "no native bf16" in r.getMessage() for r in caplog.records)
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]  # auto's fp32 is a choice, not a fallback
    exact = MultiTaskModel.load(trained_dir, precision="fp32").run(TEXTS)
    np.testing.assert_array_equal(auto.run(TEXTS).embeddings, exact.embeddings)


def test_auto_keeps_bf16_when_the_check_passes(monkeypatch, caplog, trained_dir, short_check):
    cpu_with(monkeypatch, {"avx2", "amx_bf16"})
    # Heads fit on a dozen records have little margin: on a CPU with native AVX-512 BF16 (no AMX) bf16 flipped one
    # of the tiny check set's predictions (agreement 0.985), so this model's check gets a looser bar than 0.99.
    monkeypatch.setattr(precision, "MIN_AGREEMENT", 0.95)
    with caplog.at_level(logging.INFO, logger="mtst"):
        model = MultiTaskModel.load(trained_dir, precision="auto")
    assert model.encoder.precision == "bf16"
    assert "passed the load-time check" in model.encoder.precision_reason
    assert "amx_bf16" in model.encoder.precision_reason
    assert any("precision bf16" in r.getMessage() for r in caplog.records)
    check = precision.compare_bf16(model, short_check)
    assert check["min_cosine"] >= precision.MIN_COSINE
    assert set(check["head_agreement"]) == set(model.tasks)  # every trained head was compared

    # /info says what runs and why.
    client = TestClient(create_app(ServerSettings(model=trained_dir), model=model))
    with client:
        while client.get("/health").status_code != 200:
            pass
        info = client.get("/info").json()
    assert info["precision"] == "bf16"
    assert info["precision_reason"] == model.encoder.precision_reason


def test_auto_falls_back_to_fp32_when_bf16_embeddings_drift(monkeypatch, caplog, trained_dir, short_check):
    cpu_with(monkeypatch, {"avx2", "avx512_bf16"})
    model = MultiTaskModel.load(trained_dir, precision="fp32")
    exact = model.run(TEXTS)
    model.encoder.precision, model.encoder.precision_reason = precision.initial_precision("auto", model.device)
    handle = disturb_bf16_runs(model.encoder, scale=0.5)
    try:
        with caplog.at_level(logging.INFO, logger="mtst"):
            chosen = precision.settle_auto_precision(model)
        assert chosen == "fp32" and model.encoder.precision == "fp32"
        assert "failed the load-time check" in model.encoder.precision_reason
        assert any("failed the load-time check" in r.getMessage() for r in caplog.records)
        # After the fallback nothing runs under autocast: the hook stays idle and the answers are exact fp32.
        np.testing.assert_array_equal(model.run(TEXTS).embeddings, exact.embeddings)
    finally:
        handle.remove()


def test_auto_falls_back_when_a_head_disagrees_even_if_embeddings_agree(monkeypatch, trained_dir, short_check):
    cpu_with(monkeypatch, {"avx2", "avx512_bf16"})
    model = MultiTaskModel.load(trained_dir, precision="fp32")
    model.encoder.precision, model.encoder.precision_reason = precision.initial_precision("auto", model.device)
    task = next(iter(model.tasks))

    def flip_under_bf16(_module, _inputs, logits):
        return -logits if model.encoder.precision == "bf16" else logits

    handle = model.heads[task].register_forward_hook(flip_under_bf16)
    try:
        assert precision.settle_auto_precision(model) == "fp32"
    finally:
        handle.remove()
    assert f"{task} agreement" in model.encoder.precision_reason


def test_auto_on_a_bare_encoder_checks_the_embeddings(monkeypatch, short_check):
    from mtst.embedding_io import load_encoder

    cpu_with(monkeypatch, {"avx2", "avx512_bf16"})
    encoder = load_encoder(None, "auto")
    assert encoder.precision == "bf16" and "min cosine" in encoder.precision_reason
    cpu_with(monkeypatch, {"avx2"})
    assert load_encoder(None, "auto").precision == "fp32"
