# mtst: every target sets up what it needs. On a fresh clone: `make demo`, `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
export HF_HUB_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false

.PHONY: install demo train test test-floors lint data audit bench reproduce app-studies clean browser behaviour

install: $(VENV)/.installed

# torch first, pinned: pip takes the CPU wheel from this machine's disk; the rest then finds it satisfied.
# The ray extra too: tests/test_ray_predict.py runs a local Ray cluster.
$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q torch==2.13.0
	$(BIN)/python -m pip install -q -e '.[dev,ray]'
	touch $@

models/default/tasks.json: $(VENV)/.installed configs/app.yaml data/app/train.jsonl data/app/dev.jsonl data/app/test.jsonl
	$(BIN)/mtst train --config configs/app.yaml --output models/default --overwrite

# The main job: train the default model, score it on the held-out test split, show it at work.
demo: models/default/tasks.json
	$(BIN)/mtst evaluate --model models/default --data data/app/test.jsonl
	$(BIN)/mtst demo --model models/default

# Behavioural tests (MFT, INV, DIR per capability) on the default model: behaviour/README.md.
# Reports pass rates; add --min-pass 0.9 to fail on a weak capability.
behaviour: models/default/tasks.json
	$(BIN)/mtst behaviour --model models/default --suite behaviour/app --output benchmarks/results/behaviour.json

train: install
	$(BIN)/mtst train --config configs/app.yaml --output models/default --overwrite

test: install browser
	$(BIN)/python -m pytest -q

# The lowest versions pyproject.toml allows, in a venv of their own, on a quick subset of the tests:
# the floors we state are floors we ran. Not part of CI (it downloads old releases).
FLOORS := .venv-floors
FLOOR_TESTS := tests/test_model.py tests/test_freezing.py tests/test_training.py tests/test_training_loss.py tests/test_training_state.py tests/test_cache.py
test-floors:
	test -x $(FLOORS)/bin/python || $(PYTHON) -m venv $(FLOORS)
	$(FLOORS)/bin/python -m pip install -q --upgrade pip
	$(PYTHON) .ci/floor_constraints.py pyproject.toml > $(FLOORS)/constraints.txt
	$(FLOORS)/bin/python -m pip install -q torch==2.13.0
	$(FLOORS)/bin/python -m pip install -q -c $(FLOORS)/constraints.txt -e . pytest pyyaml requests
	$(FLOORS)/bin/python -m pip list --format=freeze | grep -iE '^(torch|transformers|tokenizers|safetensors|numpy|pydantic|scikit-learn|pytest)=='
	$(FLOORS)/bin/python -m pytest -q -p no:cacheprovider $(FLOOR_TESTS) -k 'not killed and not two_processes and not sentence_transformers'

# Headless Chromium and its driver for the demo-page test (tests/test_demo_page.py); Debian packages.
browser:
	(command -v chromium && command -v chromedriver) >/dev/null || (apt-get update -q && apt-get install -y -q chromium chromium-driver)

lint: install
	$(BIN)/ruff check src tests benchmarks data/tools
	$(BIN)/ruff format --check src tests benchmarks data/tools

# Rebuild data/app/*.jsonl from data/sources and the receipt generator (byte for byte).
data: install
	$(BIN)/python data/tools/build_app_data.py
	$(BIN)/python data/tools/data_card.py
	$(BIN)/mtst data check data/app/train.jsonl data/app/dev.jsonl data/app/test.jsonl

# How far surface features alone (length, digits, `$`, case) get on each task: benchmarks/results/shortcut_audit.json.
audit: install
	$(BIN)/python data/tools/shortcut_audit.py
	$(BIN)/python data/tools/data_card.py

clean:
	rm -rf models runs .pytest_cache .venv-floors

# The default model's own figures (docs/results.md, README): bench_app.py scores models/default and heads
# alone; bench_seeds.py retrains the config under seeds 13, 15 and 16 (about 10 minutes each) to show how far
# the seed moves it.
app-studies: models/default/tasks.json
	$(BIN)/python benchmarks/bench_app.py
	$(BIN)/python benchmarks/bench_seeds.py --seeds 13,14,15,16
	$(BIN)/python benchmarks/bench_floors.py --seeds 13,14,15,16
	$(BIN)/python benchmarks/behaviour_tables.py
	$(BIN)/python benchmarks/collect_results.py

# Speed and memory, measured side by side in one run (not timed tests).
bench: install
	$(BIN)/python benchmarks/bench_inference.py
	$(BIN)/python -m pip install -q -e '.[bench]'
	$(BIN)/python benchmarks/bench_peers.py
	$(BIN)/python benchmarks/bench_training.py
	$(BIN)/python benchmarks/bench_serve.py
	$(BIN)/python benchmarks/soak_serve.py

# The public-data studies of docs/results.md (benchmarks/bench_*.py), one at a time, cheapest first.
# Each writes benchmarks/results/<study>.json and .png. Fine-tuning runs get the epochs that fit their
# time budget (timed probes), so the whole target stays under 2 hours on 2 CPU cores.
reproduce: install
	$(BIN)/python benchmarks/bench_stsb.py
	$(BIN)/python benchmarks/bench_banking77.py --parts a
	$(BIN)/python benchmarks/bench_clinc150.py
	$(BIN)/python benchmarks/bench_multitask.py
	$(BIN)/python benchmarks/bench_banking77.py --parts a,c,b --fewshot-budget-min 10 --finetune-budget-min 40 --max-epochs 4
	$(BIN)/python benchmarks/bench_freezing.py --budget-min 60 --max-epochs 4
	$(BIN)/python benchmarks/collect_results.py
