"""Checking the texts a caller hands us, before any model work is spent on them."""

from collections.abc import Sequence

from mtst.errors import MtstError


def validate_texts(texts: object) -> list[str]:
    """Return `texts` as a list of strings, or raise MtstError naming the first bad position."""
    if isinstance(texts, str):
        raise MtstError("expected a list of texts, got a single string; wrap it in a list: [text]")
    if not isinstance(texts, Sequence) and not hasattr(texts, "__iter__"):
        raise MtstError(f"expected a list of texts, got {type(texts).__name__}")
    checked = list(texts)
    for position, text in enumerate(checked):
        if not isinstance(text, str):
            raise MtstError(f"text at position {position} is {type(text).__name__}, not a string")
        if not text.strip():
            raise MtstError(f"text at position {position} is empty or only whitespace; give it some words")
    return checked
