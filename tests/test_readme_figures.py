"""The README's measured figures are the ones in benchmarks/results/, not numbers typed by hand."""

import importlib.util
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def readme_tables():
    spec = importlib.util.spec_from_file_location("readme_tables", ROOT / "benchmarks" / "readme_tables.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_readme_results_section_is_the_one_written_from_the_result_files():
    tables = readme_tables()
    current = tables.readme_section((ROOT / "README.md").read_text())
    assert current, "README.md lost its results markers"
    assert current == tables.section(), (
        "README figures differ from benchmarks/results/: run benchmarks/readme_tables.py"
    )


def test_every_results_table_row_has_a_measured_figure():
    rows = [r for r in readme_tables().results_table()[2:]]
    assert len(rows) >= 6
    for row in rows:
        assert any(ch.isdigit() for ch in row.split("|")[2]), row


def test_the_behaviour_page_table_is_the_one_written_from_the_result_files():
    spec = importlib.util.spec_from_file_location("behaviour_tables", ROOT / "benchmarks" / "behaviour_tables.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    current = module.section((ROOT / "behaviour" / "README.md").read_text())
    assert current == "\n".join(module.comparison()), "stale: run benchmarks/behaviour_tables.py"


def test_the_peer_tables_in_the_performance_page_are_the_benchmark_s_own():
    page = (ROOT / "docs" / "performance.md").read_text()
    written = sorted((ROOT / "benchmarks" / "results").glob("peers*.md"))
    assert len(written) >= 2
    for result in written:
        table = [line for line in result.read_text().splitlines() if line.startswith("|")]
        assert table and "\n".join(table) in page, f"docs/performance.md lacks the table of {result.name}"


def test_each_data_decision_s_table_is_quoted_verbatim_where_the_decision_is_told():
    page = (ROOT / "docs" / "training-considerations.md").read_text()
    written = sorted((ROOT / "benchmarks" / "results").glob("decision_*.json"))
    assert written
    for result in written:
        for title, table in json.loads(result.read_text())["tables"].items():
            assert table in page, f"docs/training-considerations.md lacks '{title}' of {result.name}"
