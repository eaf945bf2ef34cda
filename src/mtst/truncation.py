"""How a text longer than the encoder's window is cut: keep its head, or its head and its tail."""

TRUNCATIONS = ("head", "head_tail")


def truncate(ids: list[int], max_length: int, how: str = "head") -> list[int]:
    """One text's token ids ([CLS] ... [SEP]) cut to max_length, [CLS] and [SEP] kept.

    head: the first max_length - 1 tokens and [SEP], as the tokenizer and sentence-transformers cut.
    head_tail: the first half of the window and the last half. A long receipt keeps both its store header and
    its total, which sit at its two ends; cutting the head only makes every long whole receipt look cut off.
    """
    if len(ids) <= max_length:
        return ids
    if how == "head":
        return ids[: max_length - 1] + ids[-1:]
    if how != "head_tail":
        raise ValueError(f"unknown truncation {how!r}; choose one of {', '.join(TRUNCATIONS)}")
    head = max_length // 2
    return ids[:head] + ids[len(ids) - (max_length - head) :]
