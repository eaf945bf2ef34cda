"""Write behaviour/README.md's results tables from benchmarks/results/behaviour{,_baseline}.json.

    .venv/bin/python benchmarks/behaviour_tables.py

`make behaviour` and bench_app.py write the JSON; tests/test_readme_figures.py holds the page to it.
"""

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from markers import marked, with_marked  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
PAGE = ROOT / "behaviour" / "README.md"
START, END = "<!-- behaviour:start (benchmarks/behaviour_tables.py writes this) -->", "<!-- behaviour:end -->"
TYPES = ("MFT", "INV", "DIR")


def load(name: str) -> dict:
    return json.loads((RESULTS / f"{name}.json").read_text())


def percent(rate: float) -> str:
    return f"{100 * rate:.0f}%"


def comparison() -> list[str]:
    """Each capability's pass rate before (the baseline model) and now (models/default)."""
    before = {c["name"]: c for c in load("behaviour_baseline")["capabilities"]}
    now = load("behaviour")
    lines = [
        "| capability | type | task | cases | pass before | pass now | now, abstentions read as the top label "
        "| base ok now |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for cap in now["capabilities"]:
        old = before.get(cap["name"])
        base = f"{cap['bases_passed']}/{cap['cases']}" if cap["type"] != "MFT" else ""
        lines.append(
            f"| `{cap['name']}` | {cap['type']} | {cap['task']} | {cap['cases']} "
            f"| {'-' if old is None else percent(old['pass_rate'])} | {percent(cap['pass_rate'])} "
            f"| {percent(cap['pass_rate_top_label'])} | {base} |"
        )
    models = (load("behaviour_baseline"), now)
    rates = [" / ".join(percent(r["by_type"][t]["pass_rate"]) for t in TYPES) for r in models]
    lines.append(f"| all MFT / INV / DIR | | | | {rates[0]} | {rates[1]} | | |")
    passing = sum(c["pass_rate"] >= 0.9 for c in now["capabilities"])
    top = sum(c["pass_rate_top_label"] >= 0.9 for c in now["capabilities"])
    lines += [
        "",
        f"Capabilities at 90% or more now: {passing} of {len(now['capabilities'])}; {top} when each abstention "
        f"(a label of None under the head's confidence floor) is read as the head's top label "
        f"({percent(now['overall']['pass_rate'])} of cases as served, "
        f"{percent(now['overall']['pass_rate_top_label'])} so read).",
    ]
    return lines


def section(page: str) -> str | None:
    return marked(page, START, END)


def main() -> None:
    page = PAGE.read_text()
    if section(page) is None:
        raise SystemExit(f"{PAGE} has no {START} ... {END} markers")
    PAGE.write_text(with_marked(page, START, END, "\n".join(comparison())))
    print(f"wrote the results table of {PAGE.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
