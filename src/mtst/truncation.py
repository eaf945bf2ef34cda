"""How a text longer than the encoder's window is cut: keep its head, or its head and its tail."""

TRUNCATIONS = ("head", "head_tail")


def head_tail_split(max_length: int) -> tuple[int, int]:
    """How many tokens head_tail keeps from the start and from the end of a longer text (see truncate)."""
    head = max_length * 3 // 8
    return head, max_length - head


def truncate(ids: list[int], max_length: int, how: str = "head") -> list[int]:
    """One text's token ids ([CLS] ... [SEP]) cut to max_length, [CLS] and [SEP] kept.

    head: the first max_length - 1 tokens and [SEP], as the tokenizer and sentence-transformers cut.
    head_tail: the first 3/8 of the window and the last 5/8 (96 and 160 of 256 tokens). A long receipt keeps both
    its store header and its total, which sit at its two ends; cutting the head only makes every long whole
    receipt look cut off. The tail gets more because a receipt's bottom runs longer than its top: on the
    training receipts, from the total line to the end took up to 80 tokens for 90% of them (156 for 99%),
    the header before the first item up to 62 (117).
    """
    if len(ids) <= max_length:
        return ids
    if how == "head":
        return ids[: max_length - 1] + ids[-1:]
    if how != "head_tail":
        raise ValueError(f"unknown truncation {how!r}; choose one of {', '.join(TRUNCATIONS)}")
    head, tail = head_tail_split(max_length)
    return ids[:head] + ids[len(ids) - tail :]
