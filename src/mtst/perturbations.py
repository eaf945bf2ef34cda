"""Named text perturbations for behavioural tests: each one is deterministic and changes one thing.

Receipt perturbations read a receipt line by line: a header (store, address, date) comes before the
first item line; item lines end with an amount; totals, tax and payment lines are not items.
"""

import hashlib
import random
import re
from collections.abc import Callable

from mtst.errors import MtstError

# A line that ends with an amount, perhaps followed by a tax flag ("3.49 F", "12.00 T").
AMOUNT_AT_END = re.compile(r"-?\$?\d{1,5}[.,]\d{2}(\s+[A-Z]{1,2})?\s*$")
# The total line, in the words tills use for it ("TOTAL", "BALANCE DUE", "AMT DUE", "YOU PAY", "SALE AMOUNT");
# SUBTOTAL starts with SUB so the anchor keeps it out.
TOTAL_LINE = re.compile(
    r"^[\s*]*(grand\s+)?total\b(?!\s*(savings|saved|items?|number|tax|discount|qty))"
    r"|^[\s*]*(balance|amount)(\s+due|\s+to\s+pay)?\b|^[\s*]*(bal|amt)\.?\s+due\b"
    r"|^[\s*]*(please\s+pay|you\s+pay|pay\s+this\s+amount)\b"
    r"|^[\s*]*((fuel|net)\s+sale|(sale|invoice|order)\s+amount)\b",
    re.IGNORECASE,
)
# A bare SALE or PURCHASE with its amount ("PURCHASE 48.06", not "SALES TAX" or "SALE 04.20.2024") is the total
# only on a receipt with no line above: under a TOTAL it is a card slip's payment line, which stays.
SALE_LINE = re.compile(r"^[\s*]*(sale|purchase)[\s:]*\$?\d[\d,]*[.,]\d{2}\b(?![.,/]\d)", re.IGNORECASE)
# Amount lines that are not items: sums, tax, tenders, change, tips, savings.
NOT_AN_ITEM = re.compile(
    r"\b(sub\s*-?\s*total|total|tax|balance|change|cash|visa|mastercard|debit|credit|amex|discover|tip|"
    r"gratuity|savings|saved|tend(er)?|amount|paid|due|coupon|card|auth|points?|rewards?|contactless|approved|"
    r"purchase|club\s+price)\b",
    re.IGNORECASE,
)

# Where a receipt's item block ends: a sum, a tax or charge, a total in any wording, or a tender. (Not CARD, which
# also names items: "GREETING CARD 1.25".)
END_OF_ITEMS = re.compile(
    r"\b(sub\s*-?\s*total|total|tax|gst|vat|hst|pst|(service|svc)\s+charge|balance|due|amount|"
    r"cash|change|visa|mastercard|amex|discover|debit|credit|tend(er(ed)?)?|eftpos|paid)\b",
    re.IGNORECASE,
)

EXTRA_ITEMS = (("Paper towels 6pk", "8.99"), ("Bananas 2.1 lb", "1.24"), ("Peanut butter 16oz", "3.58"))
OTHER_STORES = ("FAIRWAY MARKET", "HARBOR FOODS", "SUNNYSIDE GROCERY", "MAPLE LANE PHARMACY", "NORTHGATE SUPPLY")

# Misreads a bad scan makes: look-alike characters.
LOOKALIKES = {
    "O": "0",
    "o": "0",
    "0": "O",
    "I": "1",
    "i": "l",
    "l": "1",
    "1": "l",
    "S": "5",
    "s": "5",
    "5": "S",
    "B": "8",
    "8": "B",
    "G": "6",
    "6": "G",
    "E": "#",
    "e": "c",
    "A": "4",
    "a": "@",
    "T": "7",
    "Z": "2",
    "g": "9",
    "2": "?",
    "3": "#",
    "4": "?",
    "7": "?",
    "9": "#",
}


def rng_for(text: str) -> random.Random:
    """A random generator seeded by the text itself: the same text always gets the same perturbation."""
    return random.Random(int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big"))


def lines_of(text: str) -> list[str]:
    return text.strip("\n").split("\n")


def is_item(line: str) -> bool:
    """An amount line that is not a sum, tender or total, the last in any wording ("FUEL SALE 40.00", "YOU PAY")."""
    return (
        bool(AMOUNT_AT_END.search(line))
        and not NOT_AN_ITEM.search(line)
        and not TOTAL_LINE.search(line)
        and not SALE_LINE.search(line)
    )


def item_positions(lines: list[str]) -> list[int]:
    return [i for i, line in enumerate(lines) if is_item(line)]


def drop_total(text: str) -> str:
    """The receipt without its total line(s); nothing else changes."""
    lines = lines_of(text)
    kept = [line for line in lines if not TOTAL_LINE.search(line)]
    if len(kept) == len(lines):
        kept = [line for line in lines if not SALE_LINE.search(line)]
    if len(kept) == len(lines):
        raise ValueError("no total line (TOTAL ..., BALANCE DUE ...) to drop")
    return "\n".join(kept)


def drop_header(text: str) -> str:
    """The receipt from its first item line on: store name, address and date are gone."""
    lines = lines_of(text)
    items = item_positions(lines)
    if not items or items[0] == 0:
        raise ValueError("no header before the first item line")
    return "\n".join(lines[items[0] :])


def keep_first_half(text: str) -> str:
    """The first half of the receipt's lines, as if the scan stopped partway."""
    lines = lines_of(text)
    if len(lines) < 4:
        raise ValueError("fewer than 4 lines: no half to cut")
    return "\n".join(lines[: len(lines) // 2])


def garble(text: str) -> str:
    """A bad scan: look-alike misreads, unreadable characters and a few dropped ones, on every line."""
    rng = rng_for(text)
    out = []
    for char in text.strip("\n"):
        if not char.isalnum():
            out.append(char)
            continue
        roll = rng.random()
        if roll < 0.06:
            continue  # lost
        if roll < 0.45:
            out.append(LOOKALIKES.get(char, rng.choice("?#")))
        elif roll < 0.55:
            out.append(rng.choice("?#"))
        else:
            out.append(char)
    return "".join(out)


def drop_items(text: str) -> str:
    """The receipt with two item lines removed (one when it has only two), header and total kept."""
    lines = lines_of(text)
    items = item_positions(lines)
    if len(items) < 2:
        raise ValueError("fewer than two item lines: removing one would leave no items")
    gone = set(items[1:3] if len(items) > 3 else items[-1:])
    return "\n".join(line for i, line in enumerate(lines) if i not in gone)


def drop_all_items(text: str) -> str:
    """The receipt with every item gone, as if the middle were folded away: the lines from the first item to the
    last priced line before the first sum, tax, total or tender line (an item named with a till word, a weight
    line and a coupon under an item go with them). Header, totals and payment stay, a total printed above the
    items too."""
    lines = lines_of(text)
    items = item_positions(lines)
    if not items:
        raise ValueError("no item lines to remove")
    ends = (
        i
        for i in range(items[0] + 1, len(lines))
        if END_OF_ITEMS.search(lines[i]) or TOTAL_LINE.search(lines[i]) or SALE_LINE.search(lines[i])
    )
    end = next(ends, len(lines))
    # What follows the last priced line of the block without a price (a rule, "Items in Transaction: 13") stays.
    end = max(i for i in range(items[0], end) if AMOUNT_AT_END.search(lines[i])) + 1
    kept = lines[: items[0]] + lines[end:]
    if not any(AMOUNT_AT_END.search(line) for line in kept):
        raise ValueError("no total or other amount left once the items are gone")
    return "\n".join(kept)


def add_items(text: str) -> str:
    """The receipt with three more item lines after its last item, in its own letter case."""
    lines = lines_of(text)
    items = item_positions(lines)
    if not items:
        raise ValueError("no item lines to add to")
    upper = all(lines[i] == lines[i].upper() for i in items)
    width = len(lines[items[-1]].rstrip())  # right-align the prices with the receipt's last item
    new = []
    for name, price in EXTRA_ITEMS:
        name = name.upper() if upper else name
        new.append(name + " " * max(2, width - len(name) - len(price)) + price)
    last = items[-1] + 1
    return "\n".join(lines[:last] + new + lines[last:])


def rename_store(text: str) -> str:
    """The receipt with its first line (the store name) replaced by another store's name."""
    lines = lines_of(text)
    if AMOUNT_AT_END.search(lines[0]):
        raise ValueError("the first line is not a store name")
    options = [s for s in OTHER_STORES if s.lower() not in lines[0].lower()]
    name = options[rng_for(text).randrange(len(options))]
    lines[0] = name if lines[0] == lines[0].upper() else name.title()
    return "\n".join(lines)


def add_typo(text: str) -> str:
    """Two neighbouring letters swapped inside one word of four letters or more."""
    words = [m for m in re.finditer(r"[A-Za-z]{4,}", text)]
    rng = rng_for(text)
    for match in rng.sample(words, len(words)):
        word = match.group()
        for k in range(1, len(word) - 2):
            if word[k] != word[k + 1]:
                typo = word[:k] + word[k + 1] + word[k] + word[k + 2 :]
                return text[: match.start()] + typo + text[match.end() :]
    raise ValueError("no word of four letters or more with two different neighbouring letters")


def change_amount(text: str) -> str:
    """Every number changed to another plausible one: 4.99 -> 6.49, 75 -> 112, 2,000 -> 3,000."""

    def other(match: re.Match) -> str:
        raw = match.group()
        value = float(raw.replace(",", ""))
        if "." in raw:
            return f"{value * 1.3 + 0.2:.2f}"
        new = int(value * 3 // 2) if value >= 2 else int(value) + 2
        return f"{new:,}" if "," in raw else str(new)

    changed = re.sub(r"\d{1,3}(,\d{3})+(\.\d{2})?|\d+(\.\d{2})?", other, text)
    if changed == text:
        raise ValueError("no number to change")
    return changed


def upper_case(text: str) -> str:
    if text.upper() == text:
        raise ValueError("already upper case")
    return text.upper()


def lower_case(text: str) -> str:
    if text.lower() == text:
        raise ValueError("already lower case")
    return text.lower()


PERTURBATIONS: dict[str, Callable[[str], str]] = {
    f.__name__: f
    for f in (
        drop_total,
        drop_header,
        keep_first_half,
        garble,
        drop_items,
        drop_all_items,
        add_items,
        rename_store,
        add_typo,
        change_amount,
        upper_case,
        lower_case,
    )
}


def perturb(name: str, text: str) -> str:
    """Apply the named perturbation, or raise MtstError saying why it does not fit this text."""
    if name not in PERTURBATIONS:
        raise MtstError(f"unknown perturbation {name!r}; known: {', '.join(PERTURBATIONS)}")
    try:
        return PERTURBATIONS[name](text)
    except ValueError as err:
        first = lines_of(text)[0][:50]
        raise MtstError(f"perturbation {name} does not fit the text starting {first!r}: {err}") from None
