import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from mtst.behaviour import KNOWN_TASKS, TEST_TYPES, below, format_table, load_suite, report, run_suite
from mtst.errors import MtstError
from mtst.outputs import Prediction
from mtst.perturbations import (
    AMOUNT_AT_END,
    PERTURBATIONS,
    add_items,
    add_typo,
    change_amount,
    drop_all_items,
    drop_header,
    drop_items,
    drop_total,
    garble,
    keep_first_half,
    perturb,
    rename_store,
)

ROOT = Path(__file__).resolve().parent.parent
SUITE = ROOT / "behaviour" / "app"

RECEIPT = """KROGER #0412
123 MAIN ST, DAYTON OH
10/02/2026 14:05
MILK 2% GAL         3.49
BREAD WHEAT         2.99
EGGS 12CT           3.10
BANANAS 1.2 LB      0.71
SUBTOTAL           10.29
TAX                 0.00
TOTAL              10.29
VISA ****1234      10.29
TOTAL SAVINGS       1.50"""


# --- the shipped suite ----------------------------------------------------------------


def test_shipped_suite_loads_and_every_expected_label_is_valid():
    capabilities = load_suite(SUITE)
    assert len(capabilities) >= 20
    assert {c.type for c in capabilities} == set(TEST_TYPES)
    for cap in capabilities:
        assert 15 <= len(cap.cases) <= 40, cap.name
        for case in cap.cases:
            for check in case.checks:
                for task, label in check.expect:
                    assert label is None or label in KNOWN_TASKS[task].labels, (cap.name, task, label)
            if cap.type != "MFT":
                assert len(case.checks) >= 2  # a base and at least one variant
    tasks = {c.task for c in capabilities}
    assert {"sentence_type", "receipt_quality", "query_intent"} <= tasks


def test_receipt_directions_start_from_good_receipts_and_end_where_the_guide_says():
    by_name = {c.name: c for c in load_suite(SUITE)}
    ends = {
        "receipt_without_total": "incomplete",
        "receipt_without_header": "incomplete",
        "receipt_without_items": "incomplete",
        "receipt_first_half_only": "incomplete",
        "receipt_garbled_scan": "blurry",
    }
    for name, after in ends.items():
        for case in by_name[name].cases:
            base, *variants = case.checks
            assert base.expect == (("receipt_quality", "good_quality"),)
            assert [v.expect for v in variants] == [(("receipt_quality", after),)]


def test_suite_errors_name_the_file_and_what_to_fix(tmp_path):
    def write(body: str) -> Path:
        (tmp_path / "bad.yaml").write_text(textwrap.dedent(body))
        return tmp_path

    head = "task: query_intent\ncapabilities:\n"
    with pytest.raises(MtstError, match="bad.yaml.*'clever' is not one of task 'query_intent'"):
        load_suite(write(head + "- {name: x, type: MFT, cases: [{text: a, expect: clever}]}"))
    with pytest.raises(MtstError, match="unknown perturbation 'shuffle'"):
        load_suite(write(head + "- {name: x, type: INV, perturb: shuffle, expect: deal_search, cases: [a]}"))
    with pytest.raises(MtstError, match="expect must be a label"):
        load_suite(write(head + "- {name: x, type: MFT, cases: [a]}"))
    with pytest.raises(MtstError, match="DIR test needs"):
        load_suite(write("task: receipt_quality\ncapabilities:\n- {name: x, type: DIR, perturb: garble, cases: [a]}"))
    with pytest.raises(MtstError, match="drop_total does not fit.*no total line"):
        load_suite(
            write(
                "task: receipt_quality\ncapabilities:\n- {name: x, type: DIR, perturb: drop_total, "
                "expect: good_quality, expect_after: incomplete, cases: [BREAD 2.99]}"
            )
        )
    with pytest.raises(MtstError, match="no behaviour suite"):
        load_suite(tmp_path / "nowhere")


# --- perturbations -----------------------------------------------------------------------


def test_drop_total_removes_the_total_line_and_nothing_else():
    lines = RECEIPT.split("\n")
    assert drop_total(RECEIPT).split("\n") == [line for line in lines if not line.startswith("TOTAL  ")]
    assert "SUBTOTAL" in drop_total(RECEIPT) and "TOTAL SAVINGS" in drop_total(RECEIPT)


@pytest.mark.parametrize(
    "total", ["BAL. DUE      27.25", "YOU PAY     46.36", "SALE AMOUNT  38.17", "PURCHASE    48.06", "Please Pay  9.10"]
)
def test_drop_total_knows_a_total_line_that_does_not_say_total(total):
    kept = ["SUNNY MART", "Milk   3.49", "SALES TAX   0.21", "SALE  04.20.2024 9:12 AM", "PURCHASE APPROVED"]
    assert drop_total("\n".join(kept[:3] + [total] + kept[3:])) == "\n".join(kept)


def test_drop_total_keeps_a_card_slips_sale_line_under_a_total():
    text = "SUNNY MART\nMilk   3.49\nTOTAL   3.49\nPURCHASE   $3.49\nAPPROVED"
    assert drop_total(text) == "SUNNY MART\nMilk   3.49\nPURCHASE   $3.49\nAPPROVED"


def test_drop_header_starts_at_the_first_item():
    assert drop_header(RECEIPT).split("\n") == RECEIPT.split("\n")[3:]


def test_keep_first_half_keeps_the_first_half_of_the_lines():
    assert keep_first_half(RECEIPT).split("\n") == RECEIPT.split("\n")[:6]


def test_garble_misreads_many_characters_and_amounts_but_keeps_the_lines():
    garbled = garble(RECEIPT)
    assert garbled == garble(RECEIPT)  # deterministic
    assert garbled.count("\n") == RECEIPT.count("\n")
    before = [c for c in RECEIPT if c.isalnum()]
    changed = sum(a != b for a, b in zip(before, [c for c in garbled if c.isalnum()], strict=False))
    assert changed / len(before) > 0.3
    amounts = [line for line in RECEIPT.split("\n") if AMOUNT_AT_END.search(line)]
    intact = [a for a in amounts if a.split()[-1] in garbled]
    assert len(intact) < len(amounts) / 2


def test_item_perturbations_touch_only_item_lines():
    lines = RECEIPT.split("\n")
    fewer = drop_items(RECEIPT).split("\n")
    assert len(fewer) == len(lines) - 2
    assert set(lines) - set(fewer) == {"BREAD WHEAT         2.99", "EGGS 12CT           3.10"}
    more = add_items(RECEIPT).split("\n")
    assert more[:7] == lines[:7] and more[10:] == lines[7:]
    assert all(AMOUNT_AT_END.search(line) and len(line) == len(lines[6]) for line in more[7:10])
    renamed = rename_store(RECEIPT).split("\n")
    assert renamed[1:] == lines[1:] and renamed[0] != lines[0] and renamed[0].isupper()


def test_drop_all_items_keeps_header_totals_and_payment_only():
    assert drop_all_items(RECEIPT).split("\n") == RECEIPT.split("\n")[:3] + RECEIPT.split("\n")[7:]
    # What sits between items goes with them (a weight line, a coupon, an item named with a till word such as
    # CARD); a rule or a count under the last item stays.
    list_with_extras = """HARBOR FOODS
COFFEE 12OZ                 8.99
  STORE COUPON             -1.00
BANANAS LOOSE
  0.915 kg @ 0.77/kg        0.70
GREETING CARD               1.25
----------------------------
SUBTOTAL                    9.94
TOTAL                       9.94
CASH                       10.00"""
    assert drop_all_items(list_with_extras).split("\n") == [
        "HARBOR FOODS",
        "----------------------------",
        "SUBTOTAL                    9.94",
        "TOTAL                       9.94",
        "CASH                       10.00",
    ]
    with pytest.raises(ValueError, match="no item lines"):
        drop_all_items("HARBOR FOODS\nTOTAL 9.94")


@pytest.mark.parametrize(
    ("receipt", "left"),
    [
        (
            "CAFE\nTOTAL 9.94\nCOFFEE 8.99\nBAGEL 0.95\nCASH 10.00\nCHANGE 0.06",
            "CAFE|TOTAL 9.94|CASH 10.00|CHANGE 0.06",
        ),
        ("CAFE\nCOFFEE 8.99\nBAGEL 0.95\nVISA 9.94\nTOTAL 9.94", "CAFE|VISA 9.94|TOTAL 9.94"),  # paid, then the total
        ("KOPI\nKAYA TOAST 9.80\nGST 9% 0.99\nTOTAL 11.99\nNETS 11.99", "KOPI|GST 9% 0.99|TOTAL 11.99|NETS 11.99"),
        ("DINER\nFRIES 3.00\nYOU PAY 3.00\nVISA 3.00\n18%  0.54", "DINER|YOU PAY 3.00|VISA 3.00|18%  0.54"),
        ("GARAGE\nOIL FILTER SVC 40.00\nTOTAL 40.00", "GARAGE|TOTAL 40.00"),  # SVC in an item's name
    ],
)
def test_drop_all_items_keeps_whatever_totals_and_payment_the_receipt_prints(receipt, left):
    assert drop_all_items(receipt).split("\n") == left.split("|")


def test_drop_all_items_refuses_a_receipt_whose_only_amount_is_its_total():
    with pytest.raises(ValueError, match="no item lines"):
        drop_all_items("GAS N GO\nPUMP 4\nFUEL SALE 40.00\nVISA 40.00")


def test_text_perturbations():
    assert change_amount("Save 75¢ on two 12-packs, $4.99, earn 2,000 points") == (
        "Save 112¢ on two 18-packs, $6.69, earn 3,000 points"
    )
    typo = add_typo("missing points")
    assert typo != "missing points" and sorted(typo) == sorted("missing points")
    assert perturb("upper_case", "tide coupon") == "TIDE COUPON"
    with pytest.raises(MtstError, match="lower_case does not fit"):
        perturb("lower_case", "tide coupon")
    assert set(PERTURBATIONS) >= {"drop_total", "drop_header", "keep_first_half", "garble", "add_typo"}


# --- scoring -----------------------------------------------------------------------------


class FakeModel:
    """Answers from a table; a text it does not know gets 'generic_text'. Records its calls."""

    def __init__(self, table: dict[str, dict[str, str | None]], takes_given: bool = True):
        self.table = table
        self.calls: list[tuple[list[str], dict | None]] = []
        if not takes_given:
            self.predict = self._predict_plain

    def _answer(self, text: str, given: dict | None) -> dict:
        labels = dict(self.table.get(text, {"sentence_type": "generic_text"}))
        if given and given.get("text_kind") == "search_query":
            labels["sentence_type"] = None
        return {task: Prediction(label, 0.9, {}) for task, label in labels.items()}

    def predict(self, texts, batch_size=32, given=None):
        self.calls.append((list(texts), given))
        return [self._answer(t, given) for t in texts]

    def _predict_plain(self, texts, batch_size=32):
        self.calls.append((list(texts), None))
        return [self._answer(t, None) for t in texts]


def suite_file(tmp_path: Path) -> Path:
    (tmp_path / "s.yaml").write_text(
        textwrap.dedent(
            """
            task: sentence_type
            capabilities:
              - name: offers
                type: MFT
                expect: offer
                cases: ["save 50c", "double points", "earn 500 points", "bonus week"]
              - name: typo
                type: INV
                perturb: upper_case
                cases: [{text: "save 50c", expect: offer}, {text: "hello there", expect: generic_text}]
              - name: no_sentence_type_for_queries
                type: MFT
                given: {text_kind: search_query}
                expect: {sentence_type: null}
                cases: ["tide coupon", "huggies"]
            """
        )
    )
    return tmp_path


def test_scores_count_a_case_only_when_all_its_checks_pass(tmp_path):
    table = {
        "save 50c": {"sentence_type": "offer"},
        "SAVE 50C": {"sentence_type": "offer"},
        "double points": {"sentence_type": "offer"},
        "earn 500 points": {"sentence_type": "receipt"},
        "bonus week": {"sentence_type": "offer"},
        "hello there": {"sentence_type": "generic_text"},
        "HELLO THERE": {"sentence_type": "fraud_alert"},
    }
    model = FakeModel(table)
    results = run_suite(model, load_suite(suite_file(tmp_path)))
    rates = {r.capability.name: (r.passed, r.total) for r in results}
    assert rates == {"offers": (3, 4), "typo": (1, 2), "no_sentence_type_for_queries": (2, 2)}
    assert [r.bases_passed for r in results] == [3, 2, 2]  # "hello there" itself was right, its variant not
    failure = {"text": "HELLO THERE", "variant": True, "task": "sentence_type"}
    assert results[1].failures == [{**failure, "expected": "generic_text", "got": "fraud_alert"}]
    # Each distinct text is predicted once; the `given` group gets its own call.
    assert sorted(len(texts) for texts, _ in model.calls) == [2, 7]
    assert [given for _, given in model.calls if given] == [{"text_kind": "search_query"}]
    summary = report(results)
    assert summary["by_type"] == {
        "MFT": {"cases": 6, "passed": 5, "pass_rate": 0.8333},
        "INV": {"cases": 2, "passed": 1, "pass_rate": 0.5},
    }
    assert summary["overall"] == {"cases": 8, "passed": 6, "pass_rate": 0.75, "pass_rate_top_label": 0.75}
    assert [r.capability.name for r in below(results, 0.9)] == ["offers", "typo"]
    table_text = format_table(results)
    assert "offers" in table_text and "75%" in table_text and "got fraud_alert, expected generic_text" in table_text


def test_an_abstention_fails_the_case_but_its_top_label_is_reported_beside(tmp_path):
    """An abstaining head answers None: the case fails as served; read as its top label it may pass, and a
    head that does not apply stays None either way."""

    class Abstaining(FakeModel):
        def _answer(self, text, given):
            answers = super()._answer(text, given)
            if text in ("double points", "bonus week"):  # unsure: right top label, then wrong top label
                top = "offer" if text == "double points" else "receipt"
                answers["sentence_type"] = Prediction(None, 0.4, {top: 0.4, "generic_text": 0.3}, abstained=True)
            return answers

    table = {t: {"sentence_type": "offer"} for t in ("save 50c", "SAVE 50C", "earn 500 points")}
    results = run_suite(Abstaining(table), load_suite(suite_file(tmp_path)))
    offers, _, queries = results
    assert (offers.passed, offers.passed_top_label, offers.total) == (2, 3, 4)
    assert {f["text"]: f["got"] for f in offers.failures} == {"double points": None, "bonus week": None}
    assert (queries.passed, queries.passed_top_label) == (2, 2)  # not applying is not abstaining
    summary = report(results)
    assert summary["capabilities"][0]["pass_rate_top_label"] == 0.75
    assert summary["overall"]["pass_rate_top_label"] > summary["overall"]["pass_rate"]
    assert "  50%    75%" in format_table(results)


def test_a_backend_without_given_answers_every_head_so_applicability_fails(tmp_path):
    model = FakeModel({"tide coupon": {"sentence_type": "offer"}, "huggies": {"sentence_type": "receipt"}}, False)
    results = run_suite(model, load_suite(suite_file(tmp_path)))
    assert [given for _, given in model.calls] == [None, None]
    assert {r.capability.name: r.passed for r in results}["no_sentence_type_for_queries"] == 0


# --- the command line on a trained model ---------------------------------------------------


@pytest.fixture(scope="module")
def trained_model(tiny_data, tmp_path_factory):
    from mtst.config import parse_config
    from mtst.tasks import DEFAULT_TASKS
    from mtst.training import train

    out = tmp_path_factory.mktemp("behaviour-model")
    config = {
        "tasks": [{"name": t.name, "labels": list(t.labels), "lr": 0.1} for t in DEFAULT_TASKS],
        "encoder": {"freeze": "encoder", "max_length": 48},
        "data": {"train": str(tiny_data["train"]), "dev": str(tiny_data["dev"])},
        "epochs": 3,
        "batch_size": 8,
        "seed": 3,
    }
    train(parse_config(config), out, quiet=True)
    return out


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "mtst", "behaviour", *args], capture_output=True, text=True)


def test_cli_prints_the_table_writes_json_and_checks_the_threshold(trained_model, tmp_path):
    suite = tmp_path / "suite"
    suite.mkdir()
    (suite / "queries.yaml").write_text(
        textwrap.dedent(
            """
            task: query_intent
            capabilities:
              - name: support_queries
                type: MFT
                expect: support_search
                cases: ["missing points", "reset password", "receipt rejected", "contact support"]
              - name: promo_typo
                type: INV
                perturb: add_typo
                cases: [{text: "referral code", expect: promo_search}, {text: "sweepstakes", expect: promo_search}]
            """
        )
    )
    out = tmp_path / "results" / "behaviour.json"
    done = run_cli("--model", str(trained_model), "--suite", str(suite), "--output", str(out))
    assert done.returncode == 0, done.stderr
    assert "support_queries" in done.stdout and "MFT" in done.stdout and "promo_typo" in done.stdout
    saved = json.loads(out.read_text())
    assert [c["name"] for c in saved["capabilities"]] == ["support_queries", "promo_typo"]
    assert saved["capabilities"][0]["cases"] == 4
    rates = [c["pass_rate"] for c in saved["capabilities"]]
    assert f"{rates[0]:.0%}" in done.stdout

    strict = run_cli("--model", str(trained_model), "--suite", str(suite), "--json", "--min-pass", "1.01")
    assert strict.returncode == 1 and "below 101%" in strict.stderr
    assert json.loads(strict.stdout)["capabilities"] == saved["capabilities"]

    broken = run_cli("--model", str(trained_model), "--suite", str(tmp_path / "missing"))
    assert broken.returncode == 2 and broken.stderr.startswith("error: no behaviour suite")
