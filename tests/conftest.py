import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

ROOT = Path(__file__).resolve().parent.parent


def predict_in_fresh_process(folder: Path, backend: str) -> list[str]:
    """In a new Python: load an export with `backend`, predict one query; its query_intent label, and which of
    torch, transformers and sentence_transformers got imported (a torch-free backend must import none)."""
    code = (
        "import sys\n"
        "from mtst.backend import load_model\n"
        f"m = load_model({str(folder)!r}, backend={backend!r})\n"
        "print(m.predict(['huggies size 4'])[0]['query_intent'].label)\n"
        "print(sorted(k for k in ('torch', 'transformers', 'sentence_transformers') if k in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip().splitlines()[-2:]


# Public datasets beside the clone (../shared/datasets), or where MTST_DATASETS says, as in benchmarks/common.py.
SHARED_DATASETS = Path(os.environ.get("MTST_DATASETS", ROOT.parent / "shared" / "datasets"))

# A small labelled set written for the tests: enough for a head to learn something in seconds.
TINY = {
    "sentence_type": {
        "fraud_alert": [
            "Someone logged into my account and redeemed all my points",
            "This receipt was already submitted from another account, points on hold",
            "Warning: the total on this receipt was edited, it looks fake",
            "I got a text asking for my password to claim a prize, it is a scam",
            "Unauthorised gift card redemption detected on your account",
            "Fake receipts were uploaded from your profile, we froze it",
        ],
        "help_request": [
            "How do I change the email on my account?",
            "My points never showed up for the receipt I scanned Tuesday",
            "The app crashes every time I open the camera, please help",
            "Where is my gift card? I redeemed it a week ago",
            "Can you help me reset my password",
            "Why was my receipt rejected? It was clear",
        ],
        "offer": [
            "Earn 500 bonus points on any Tide purchase this weekend",
            "Double points on every grocery receipt until Sunday",
            "Refer a friend and you both get 1000 points",
            "Buy two Pepsi 12-packs and earn 2,000 points",
            "Spin the wheel today for a chance at 5,000 points",
            "Get 10% cash back on Huggies this month",
        ],
        "receipt": [
            "Just scanned my grocery receipt from Aldi",
            "Spent 84 dollars at Target today",
            "Picked up milk and eggs at Kroger this morning",
            "Receipt uploaded: Walgreens, three items",
            "Bought new running shoes at the mall yesterday",
            "My Costco receipt was really long this time",
        ],
        "generic_text": [
            "Happy Friday everyone!",
            "The weather is lovely today",
            "Who is watching the game tonight?",
            "I made pancakes for breakfast",
            "Traffic on the highway was terrible",
            "Good luck on your exam tomorrow",
        ],
    },
    "query_intent": {
        "brand_search": ["coca cola", "huggies size 4", "target", "starbucks coffee", "tide pods", "doritos"],
        "deal_search": [
            "cheap diapers",
            "bogo snacks",
            "cereal on sale",
            "discount shampoo",
            "clearance toys",
            "lowest price coffee",
        ],
        "support_search": [
            "missing points",
            "how to link email",
            "receipt rejected",
            "reset password",
            "app not scanning",
            "contact support",
        ],
        "promo_search": [
            "referral code",
            "bonus points challenge",
            "sweepstakes",
            "sign up bonus",
            "double points event",
            "promo code",
        ],
    },
}
RECEIPTS = {
    "good_quality": [
        "KROGER #0412\nMILK 2% GAL 3.49\nBREAD 2.99\nSUBTOTAL 6.48\nTAX 0.00\nTOTAL 6.48\nVISA ****1234",
        "WALMART SUPERCENTER\nGV EGGS 18CT 4.12\nBANANAS 1.34\nSUBTOTAL 5.46\nTAX 0.38\nTOTAL 5.84",
        "CVS PHARMACY #221\nADVIL 24CT 7.99\nSUBTOTAL 7.99\nTAX 0.56\nTOTAL 8.55\nDEBIT",
        "TARGET T-1021\nCHIPS 3.19\nSODA 6PK 4.99\nSUBTOTAL 8.18\nTAX 0.65\nTOTAL 8.83",
    ],
    "blurry": [
        "KR0G?R #04l2\nM1LK 2? GA# 3.4?\nBR#AD 2.9?\nSUBT0TAL ?.48\nT0TAL #.##",
        "WA?MART SUP#RCENT?R\nGV E6GS l8CT 4.l2\nBAN?NAS l.3?\nT0TA? 5.8?",
        "CV5 PH?RMACY #22l\nADV1L 2?CT 7.9?\n5UBT0TAL ?.99\nT0TAL 8.5?",
        "TAR6ET T-l02l\nCH1P5 3.l9\n50DA 6PK ?.99\nT0T?L 8.8#",
    ],
    "incomplete": [
        "BREAD 2.99\nEGGS 3.10",
        "KROGER #0412\n123 MAIN ST\nMILK 2% GAL 3.49",
        "TAX 0.38\nTOTAL 5.84\nVISA ****1234",
        "SODA 6PK 4.99\nCHIPS 3.19\nCOOKIES 2.50",
    ],
}


KIND = {"sentence_type": "message", "query_intent": "search_query"}  # what kind of text each tiny task holds


def tiny_records(text_kind: bool = True) -> list[dict]:
    """The tiny set; text_kind=False leaves the router task unlabelled, like data labelled before it existed."""
    records = []
    for task, labels in TINY.items():
        for label, texts in labels.items():
            records += [{"text": t, task: label, "text_kind": KIND[task]} for t in texts]
    for label, texts in RECEIPTS.items():
        records += [
            {"text": t, "sentence_type": "receipt", "receipt_quality": label, "text_kind": "ocr_receipt"} for t in texts
        ]
    if not text_kind:
        records = [{k: v for k, v in r.items() if k != "text_kind"} for r in records]
    return records


def write_jsonl(path: Path, records: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


@pytest.fixture(scope="session")
def tiny_data(tmp_path_factory) -> dict[str, Path]:
    """train/dev files from the tiny set: every other record of each label goes to dev."""
    folder = tmp_path_factory.mktemp("tiny")
    records = tiny_records()
    train = [r for i, r in enumerate(records) if i % 3 != 2]
    dev = [r for i, r in enumerate(records) if i % 3 == 2]
    return {"train": write_jsonl(folder / "train.jsonl", train), "dev": write_jsonl(folder / "dev.jsonl", dev)}


@pytest.fixture(scope="session")
def encoder():
    from mtst.encoder import SentenceEncoder

    return SentenceEncoder()


@pytest.fixture(scope="session")
def reference():
    """sentence-transformers on the same folder: the reference our encoder must match."""
    from sentence_transformers import SentenceTransformer

    from mtst.encoder import default_encoder_path

    return SentenceTransformer(str(default_encoder_path()), device="cpu")


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("MTST_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "embedding-cache"))


@pytest.fixture(scope="session")
def small_encoder_dir(tmp_path_factory, encoder) -> Path:
    """A tiny randomly initialised BERT with the real tokenizer: encoder-training tests in seconds."""
    import torch
    from transformers import BertConfig, BertModel

    folder = tmp_path_factory.mktemp("small-encoder")
    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=encoder.tokenizer.vocab_size,
        hidden_size=32,
        num_hidden_layers=3,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=128,
    )
    BertModel(config).save_pretrained(folder)
    encoder.tokenizer.save_pretrained(folder)
    return folder


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory, small_encoder_dir) -> Path:
    """A saved MultiTaskModel on the tiny random encoder, with the default tasks: batch-scoring tests in seconds."""
    import torch

    from mtst.encoder import SentenceEncoder
    from mtst.model import MultiTaskModel

    torch.manual_seed(2)
    model = MultiTaskModel(SentenceEncoder(small_encoder_dir, device="cpu"))
    return model.save(tmp_path_factory.mktemp("tiny-model") / "model")
