"""What a text longer than the encoder's window keeps: its head (the default) or its head and its tail."""

import numpy as np
import pytest
import torch

from mtst.encoder import SentenceEncoder
from mtst.errors import MtstError
from mtst.model import MultiTaskModel
from mtst.tasks import read_task_file
from mtst.truncation import truncate

ROW = list(range(100, 120))  # [CLS]=100 ... [SEP]=119


def test_head_keeps_the_start_and_the_closing_token():
    assert truncate(ROW, 8) == ROW[:7] + [119]


def test_head_tail_keeps_both_ends_within_the_window():
    cut = truncate(ROW, 8, "head_tail")
    assert cut == ROW[:3] + ROW[-5:]  # 3/8 head, 5/8 tail: a receipt's bottom runs longer than its header
    assert len(truncate(ROW, 9, "head_tail")) == 9


def test_short_rows_are_left_alone_and_unknown_cuts_refused():
    assert truncate(ROW, 20, "head_tail") == ROW
    with pytest.raises(ValueError, match="head_tail"):
        truncate(ROW, 8, "middle")
    with pytest.raises(MtstError, match="head_tail"):
        SentenceEncoder(truncation="middle")


def long_receipt(total: str) -> str:
    items = "\n".join(f"ITEM NUMBER {i} GROCERY THING      {i}.99" for i in range(60))
    return f"CORNER MARKET\n12 MAIN ST\n{items}\nTOTAL      {total}"


def test_head_tail_sees_the_end_of_a_long_receipt_and_head_does_not():
    a, b = long_receipt("412.50"), long_receipt("BALANCE DUE 0.00 THANK YOU")
    head = SentenceEncoder(max_length=64, device="cpu")
    both = SentenceEncoder(max_length=64, device="cpu", truncation="head_tail")
    assert head.tokenize([a])[1] == 1 and len(both.tokenize([a])[0][0]) == 64
    np.testing.assert_allclose(*head.encode([a, b]), atol=1e-6)  # the ends differ, the head never sees them
    assert float(np.dot(*both.encode([a, b]))) < 0.999


def test_the_cut_is_saved_with_the_model_and_kept_by_its_onnx_export(small_encoder_dir, tmp_path):
    from mtst.export import export_onnx
    from mtst.onnx_backend import OnnxModel

    torch.manual_seed(0)
    model = MultiTaskModel(SentenceEncoder(small_encoder_dir, max_length=32, device="cpu", truncation="head_tail"))
    folder = model.save(tmp_path / "model")
    assert read_task_file(folder / "tasks.json").truncation == "head_tail"
    loaded = MultiTaskModel.load(folder)
    assert loaded.encoder.truncation == "head_tail"
    assert loaded.describe()["truncation"] == {"max_length": 32, "keeps": "head_tail"}
    texts = [long_receipt("9.45"), "short text"]
    exported = OnnxModel.load(export_onnx(folder, tmp_path / "onnx"))
    assert exported.tokenize(texts)[0] == loaded.encoder.tokenize(texts)[0]
    np.testing.assert_allclose(exported.encode(texts), loaded.encode(texts), atol=1e-4)
