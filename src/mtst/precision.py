"""Which precision a torch model runs at: fp32, bf16, or auto (bf16 where it is native and checked).

`auto` picks bf16 only where the hardware computes it natively (AVX-512 BF16 or AMX on a CPU, a CUDA
device with bf16 support) and only after a load-time check: the model runs a set of built-in texts in
fp32 and in bf16, and bf16 is kept when every embedding stays within cosine MIN_COSINE of fp32 and every
trained head agrees with fp32 on at least MIN_AGREEMENT of the texts. Anywhere else auto is fp32, which
gives exactly fp32's numbers. The choice and its reason are kept on the encoder (`precision`,
`precision_reason`), logged, and shown by the server's /info.
"""

import logging

import numpy as np
import torch

from mtst import device as devices
from mtst.device import PRECISIONS, bf16_supported, resolve_precision
from mtst.errors import MtstError

log = logging.getLogger("mtst")

AUTO = "auto"
CHOICES = (AUTO, *PRECISIONS)
MIN_COSINE = 0.9999  # embedding cosine to fp32, every text
MIN_AGREEMENT = 0.99  # each trained head's predictions equal to fp32's on this share of the texts

# The check's texts: the kinds the default tasks see (messages, offers, queries, receipts clean and garbled),
# short and long, plus other scripts. 100 of them, so that one changed prediction (99%) still passes.
_MESSAGES = [
    "Someone logged into my account and redeemed all my points",
    "This receipt was already submitted from another account, points on hold",
    "I got a text asking for my password to claim a prize, is it a scam?",
    "How do I change the email on my account?",
    "My points never showed up for the receipt I scanned Tuesday",
    "The app crashes every time I open the camera, please help",
    "Earn 500 bonus points on any Tide purchase this weekend",
    "Double points on every grocery receipt until Sunday",
    "Refer a friend and you both get 1000 points",
    "Just scanned my grocery receipt from Aldi",
    "Spent 84 dollars at Target today",
    "Happy Friday everyone!",
    "Who is watching the game tonight?",
    "I made pancakes for breakfast and the kids loved them",
    "Why was my receipt rejected? It was perfectly clear",
    "Your gift card has been sent to the email on file",
    "¿Dónde están mis puntos? 我的积分在哪里？ 🎉",
    "a",
    "ok thanks",
    "receipt points scan store milk bread coupon reward " * 25,
]
_QUERIES = [
    "huggies size 4",
    "coca cola",
    "bogo snacks",
    "cheap diapers",
    "cereal on sale",
    "missing points",
    "reset password",
    "referral code",
    "double points event",
    "sweepstakes",
    "tide pods coupon",
    "starbucks",
    "clearance toys near me",
    "how to link my email",
    "sign up bonus",
    "pepsi 12 pack deal",
    "contact support",
    "doritos",
    "lowest price coffee",
    "bonus points challenge",
]
_STORES = ["KROGER #0412", "WALMART SUPERCENTER", "TARGET T-1123", "CVS PHARMACY", "ALDI 77", "COSTCO WHOLESALE"]
_ITEMS = ["MILK 2% GAL", "BREAD WHT", "EGGS LG 12CT", "BANANAS", "TIDE PODS 42", "COKE 12PK", "DIAPERS SZ4"]


def _receipt(k: int) -> str:
    items = [f"{_ITEMS[(k + j) % len(_ITEMS)]} {1.29 + 0.7 * ((k * 3 + j) % 9):.2f}" for j in range(1 + k % 6)]
    lines = [
        _STORES[k % len(_STORES)],
        *items,
        f"TOTAL {sum(1.29 + 0.7 * ((k * 3 + j) % 9) for j in range(len(items))):.2f}",
    ]
    if k % 3 == 1:  # blurry: OCR noise
        lines = [line.replace("A", "?").replace("O", "0").replace("1", "l") for line in lines]
    if k % 3 == 2:  # incomplete: the header or the total is missing
        lines = lines[1:] if k % 2 else lines[:-1]
    return "\n".join(lines)


CHECK_TEXTS = (
    _MESSAGES
    + _QUERIES
    + [_receipt(k) for k in range(30)]
    + [f"{q} {m.lower()}" for q, m in zip(_QUERIES, _MESSAGES[:15], strict=False)]
    + [f"Can I still use the {q} offer?" for q in _QUERIES[:15]]
)


def native_bf16(device: torch.device) -> str | None:
    """What does bf16 natively on `device` (for the reason), or None where nothing does."""
    if not bf16_supported(device):
        return None
    if device.type == "cuda":
        return f"CUDA {torch.cuda.get_device_name(device)}"
    return "CPU with " + " and ".join(sorted({"amx_bf16", "avx512_bf16"} & devices._cpu_flags()))


def initial_precision(requested: str, device: torch.device) -> tuple[str, str]:
    """The precision to load with, and why. auto's bf16 is provisional until settle_auto_precision checks it."""
    if requested not in CHOICES:
        raise MtstError(f"unknown precision {requested!r}; choose one of {', '.join(CHOICES)}")
    if requested != AUTO:
        precision = resolve_precision(requested, device)  # bf16 without native support: fp32, one warning
        if precision == requested:
            return precision, f"{precision} as asked"
        return precision, f"bf16 was asked for but this {device.type} has no native bf16: fp32"
    hardware = native_bf16(device)
    if hardware is None:
        return "fp32", f"auto: no native bf16 on this {device.type} (needs AVX-512 BF16 or AMX, or a bf16 GPU): fp32"
    return "bf16", f"auto: native bf16 ({hardware}), not yet checked"


def _run(target, texts: list[str]) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Embeddings and each trained head's predicted label index; a bare encoder has no heads."""
    if not hasattr(target, "heads"):
        return target.encode(texts), {}
    outputs = target.run(texts)
    trained = [name for name, done in target.trained.items() if done]
    return outputs.embeddings, {name: outputs.probabilities[name].argmax(1) for name in trained}


def compare_bf16(target, texts: list[str] | None = None) -> dict:
    """Run `target` (a MultiTaskModel or a SentenceEncoder) on texts (CHECK_TEXTS) in fp32 and in bf16; compare."""
    texts = CHECK_TEXTS if texts is None else texts
    encoder = getattr(target, "encoder", target)
    chosen = encoder.precision
    try:
        encoder.precision = "fp32"
        ref_embeddings, ref_labels = _run(target, texts)
        encoder.precision = "bf16"
        embeddings, labels = _run(target, texts)
    finally:
        encoder.precision = chosen
    cosine = (embeddings * ref_embeddings).sum(axis=1) / (
        np.linalg.norm(embeddings, axis=1) * np.linalg.norm(ref_embeddings, axis=1)
    )
    return {
        "texts": len(texts),
        "min_cosine": float(np.nan_to_num(cosine, nan=-1.0).min()),
        "head_agreement": {name: float((labels[name] == ref_labels[name]).mean()) for name in labels},
    }


def settle_auto_precision(target) -> str:
    """For precision="auto" on bf16 hardware: keep bf16 if it passes the check, else go back to fp32.

    target: a MultiTaskModel (embeddings and trained heads checked) or a SentenceEncoder (embeddings).
    Returns the precision now in use; the reason is on the encoder (`precision_reason`) and in the log.
    """
    encoder = getattr(target, "encoder", target)
    if encoder.precision == "bf16":
        hardware = native_bf16(encoder.device)
        check = compare_bf16(target)
        worst = min(check["head_agreement"].items(), key=lambda item: item[1], default=None)
        measured = f"min cosine {check['min_cosine']:.6f}" + (f", {worst[0]} agreement {worst[1]:.3f}" if worst else "")
        if check["min_cosine"] >= MIN_COSINE and (worst is None or worst[1] >= MIN_AGREEMENT):
            encoder.precision_reason = f"auto: native bf16 ({hardware}) passed the load-time check ({measured})"
        else:
            encoder.precision = "fp32"
            encoder.precision_reason = (
                f"auto: bf16 failed the load-time check ({measured}; needs cosine >= {MIN_COSINE} and head "
                f"agreement >= {MIN_AGREEMENT}): fp32"
            )
    log.info("precision %s: %s", encoder.precision, encoder.precision_reason)
    return encoder.precision
