"""Print pip constraints pinning every dependency of pyproject.toml to its floor (`pkg>=X` -> `pkg==X`).

`make test-floors` installs with these, so the floors we state are the versions we test. torch is left
out: its lowest Linux wheels on PyPI bundle CUDA (gigabytes); the venv gets the pinned CPU wheel instead.
"""

import re
import sys
import tomllib
from pathlib import Path

SKIP = {"torch"}
# typer 0.12 is typer-slim of the same version plus extras; pinning the pair spares pip a long backtrack
# through later typer-slim releases (which require later typer).
COMPANIONS = {"typer": "typer-slim"}
pyproject = tomllib.loads(Path(sys.argv[1] if len(sys.argv) > 1 else "pyproject.toml").read_text())
project = pyproject["project"]
wanted = list(project["dependencies"]) + list(project.get("optional-dependencies", {}).get("dev", []))
for requirement in wanted:
    match = re.fullmatch(r"\s*([A-Za-z0-9_.\-]+)\s*>=\s*([0-9][^,;\s]*)\s*", requirement)
    if match is None:
        sys.exit(f"{requirement!r} has no plain '>=' floor; give it one")
    name, floor = match.groups()
    if name.lower() not in SKIP:
        print(f"{name}=={floor}")
    if name.lower() in COMPANIONS:
        print(f"{COMPANIONS[name.lower()]}=={floor}")
