import logging

import numpy as np
import pytest

from mtst.encoder import SentenceEncoder
from mtst.errors import MtstError


def varied_texts() -> list[str]:
    """At least 50 texts: 1 to 300 words, punctuation, emoji, non-Latin scripts, receipts."""
    base = [
        "hi",
        "Just scanned my Target receipt and got 350 points!",
        "Earn 2,000 points when you buy two Pepsi 12-packs this week",
        "KROGER #0412\nMILK 2% GAL 3.49\nTOTAL 23.17",
        "¿Dónde están mis puntos? Escaneé el recibo ayer.",
        "我的积分在哪里？",
        "ポイントが反映されません",
        "Где мои баллы за чек?",
        "مرحبا، لم أحصل على النقاط",
        "🎉🎉 double points weekend!!! 🛒",
        "huggies size 4",
        "cheap diapers",
        "!!!???...",
        "e-mail: help@example.com — tel. (555) 010-2030",
        "T0TAL $##.?? M1LK 2?.4",
        "   leading and trailing spaces   ",
        "tabs\tand\nnew lines",
        "ALL CAPS MESSAGE ABOUT A REFUND",
        "a",
        "The quick brown fox jumps over the lazy dog.",
    ]
    words = "receipt points scan store milk bread coupon reward friend account help total tax".split()
    rng = np.random.default_rng(0)
    for n in (2, 5, 8, 13, 21, 34, 55, 89, 120, 160, 200, 240, 300):
        base.append(" ".join(rng.choice(words, size=n)))
    for i in range(20):
        n = int(rng.integers(3, 40))
        base.append(" ".join(rng.choice(words, size=n)) + f" #{i} {'😀' * (i % 3)}")
    return base


def test_embeddings_match_sentence_transformers(encoder, reference):
    texts = varied_texts()
    assert len(texts) >= 50
    ours = encoder.encode(texts)
    theirs = reference.encode(texts, normalize_embeddings=True, batch_size=32)
    assert ours.shape == (len(texts), 384)
    assert ours.dtype == np.float32
    np.testing.assert_allclose(ours, theirs, atol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)


def test_order_restored_and_batch_size_does_not_matter(encoder):
    texts = varied_texts()
    full = encoder.encode(texts, batch_size=64)
    one_by_one = np.stack([encoder.encode([t])[0] for t in texts[:12]])
    np.testing.assert_allclose(full[:12], one_by_one, atol=1e-5)
    for batch_size in (1, 3, 7):
        np.testing.assert_allclose(encoder.encode(texts, batch_size=batch_size), full, atol=1e-5)
    # Reversing the input reverses the output: rows follow the caller's order, not the sort.
    np.testing.assert_allclose(encoder.encode(texts[::-1], batch_size=5), full[::-1], atol=1e-5)


def test_empty_list_gives_empty_array(encoder):
    out = encoder.encode([])
    assert out.shape == (0, 384)
    assert out.dtype == np.float32


@pytest.mark.parametrize(
    ("texts", "position"),
    [(["fine", ""], 1), (["   \n"], 0), (["ok", "ok", 7], 2), ([None], 0)],
)
def test_bad_texts_name_their_position(encoder, texts, position):
    with pytest.raises(MtstError, match=f"position {position}"):
        encoder.encode(texts)


def test_single_string_is_refused_with_a_hint(encoder):
    with pytest.raises(MtstError, match="wrap it in a list"):
        encoder.encode("just one text")


def test_long_texts_are_truncated_with_one_warning(encoder, reference, caplog):
    long_texts = ["word " * 400, "another " * 300, "short one"]
    with caplog.at_level(logging.WARNING, logger="mtst"):
        out = encoder.encode(long_texts)
    warnings = [r for r in caplog.records if "truncated" in r.getMessage()]
    assert len(warnings) == 1
    assert "2 of 3" in warnings[0].getMessage()
    np.testing.assert_allclose(out, reference.encode(long_texts, normalize_embeddings=True), atol=1e-5)


def test_missing_model_folder_names_the_path(tmp_path):
    missing = tmp_path / "nowhere"
    with pytest.raises(MtstError, match=str(missing)):
        SentenceEncoder(missing)


def test_broken_model_folder_names_the_path(tmp_path):
    (tmp_path / "weights.bin").write_bytes(b"junk")
    with pytest.raises(MtstError, match="config.json"):
        SentenceEncoder(tmp_path)


def test_encoder_folder_from_environment(tmp_path, monkeypatch, encoder):
    encoder.transformer.save_pretrained(tmp_path)
    encoder.tokenizer.save_pretrained(tmp_path)
    monkeypatch.setenv("MTST_ENCODER", str(tmp_path))
    named = SentenceEncoder()
    assert named.path == tmp_path
    np.testing.assert_allclose(named.encode(["same weights"]), encoder.encode(["same weights"]), atol=1e-6)
    monkeypatch.setenv("MTST_ENCODER", str(tmp_path / "missing"))
    with pytest.raises(MtstError, match="missing"):
        SentenceEncoder()
