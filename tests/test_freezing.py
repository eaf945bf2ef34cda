import numpy as np
import pytest
import torch

from mtst.freezing import (
    freeze_all,
    freeze_encoder,
    freeze_heads,
    set_trainable,
    trainable_report,
    unfreeze_top_layers,
)
from mtst.model import MultiTaskModel

TEXTS = ["my points are missing", "earn 500 points on tide", "cheap diapers", "Walmart receipt total 12.40"]


@pytest.fixture
def model(encoder):
    torch.manual_seed(0)
    m = MultiTaskModel(encoder)
    snapshot = {k: v.clone() for k, v in encoder.state_dict().items()}
    yield m
    # The encoder is shared by the session: put its weights, branches and flags back.
    encoder.tuned = None
    encoder.load_state_dict(snapshot)
    set_trainable(encoder, True)


def one_step(model) -> dict[str, torch.Tensor]:
    """One AdamW step, over every parameter, on a summed loss; return every parameter's value before it.

    The optimizer holds all parameters (with weight decay), so only requires_grad decides what moves.
    """
    before = {k: v.detach().clone() for k, v in model.named_parameters()}
    opt = torch.optim.AdamW(model.parameters(), lr=1e-2, weight_decay=0.1)
    model.train()
    batch = model.encoder.collate(model.encoder.tokenize(TEXTS)[0])
    _, logits = model(**batch)
    loss = sum(torch.nn.functional.cross_entropy(v, torch.zeros(len(TEXTS), dtype=torch.long)) for v in logits.values())
    if loss.requires_grad:  # all frozen: nothing to differentiate, and the step must still move nothing
        loss.backward()
    opt.step()
    model.eval()
    return before


def changed(model, before) -> set[str]:
    return {k for k, v in model.named_parameters() if not torch.equal(v.detach(), before[k])}


def test_freeze_encoder_trains_heads_only(model):
    freeze_encoder(model)
    before = one_step(model)
    moved = changed(model, before)
    assert moved == {k for k in before if k.startswith("heads.")}


def test_frozen_heads_stay_bit_identical(model):
    freeze_encoder(model)
    freeze_heads(model, [name for name in model.tasks if name != "query_intent"])
    before = one_step(model)
    assert changed(model, before) == {k for k in before if k.startswith("heads.query_intent")}


def test_freeze_all_changes_nothing(model):
    freeze_all(model)
    assert trainable_report(model)["trainable"] == 0
    before = one_step(model)
    assert changed(model, before) == set()


def test_unfreeze_top_two_layers_trains_copies_and_keeps_the_base(model, reference):
    unfreeze_top_layers(model, 2)
    assert len(model.encoder.tuned.blocks) == 2 and model.encoder.split == 4
    before = one_step(model)
    moved = {k for k in changed(model, before) if k.startswith("encoder.")}
    # Only the tuned copies of blocks 4 and 5 learn; the original blocks and the embeddings stay.
    assert {k.split(".")[3] for k in moved} == {"0", "1"}
    assert all(k.startswith("encoder.tuned.blocks.") for k in moved)
    assert any(k.startswith("heads.") for k in changed(model, before))
    expected = reference.encode(TEXTS, normalize_embeddings=True)
    np.testing.assert_allclose(model.encoder.encode(TEXTS), expected, atol=1e-5)
    assert np.abs(model.encoder.encode_features(TEXTS) - model.encoder.encode(TEXTS)).max() > 1e-4


def test_unfreezing_past_the_blocks_tunes_a_whole_copy(model):
    unfreeze_top_layers(model, model.encoder.num_layers + 1)
    assert model.encoder.tuned.embeddings is not None and model.encoder.split == 0
    before = one_step(model)
    moved = {k for k in changed(model, before) if k.startswith("encoder.")}
    assert any(k.startswith("encoder.tuned.embeddings.") for k in moved)
    assert not any(k.startswith("encoder.transformer.") for k in moved)


def test_trainable_counts(model):
    total_encoder = sum(p.numel() for p in model.encoder.parameters())
    report = trainable_report(model)
    assert report["encoder"] == {"trainable": total_encoder, "total": total_encoder}
    assert report["heads"]["sentence_type"]["trainable"] == 384 * 5 + 5
    freeze_encoder(model)
    report = trainable_report(model)
    assert report["encoder"]["trainable"] == 0
    assert report["trainable"] == sum(384 * len(spec.labels) + len(spec.labels) for spec in model.tasks.values())


def test_freezing_an_unknown_head_is_an_error(model):
    from mtst.errors import MtstError

    with pytest.raises(MtstError, match="sentence_type"):
        freeze_heads(model, ["missing"])
