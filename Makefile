# Two commands do everything on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.ae-reduce-installed
OUT ?= ae_reduce_demo

.PHONY: install demo test lint format bench docs clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(STAMP): $(PY) pyproject.toml
	$(PY) -m pip install --quiet -e ".[test,tsne,plot]"
	touch $(STAMP)

install: $(STAMP)

demo: install
	$(VENV)/bin/ae-reduce demo --out $(OUT)
	@echo "Pictures are in $(OUT)/: map.png, map.html (open it in a browser) and history.png"

test: install
	sh tools/install_browser.sh
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(VENV)/bin/lint-imports
	$(PY) -m pytest

lint: install
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(VENV)/bin/lint-imports

format: install
	$(PY) -m ruff format .
	$(PY) -m ruff check --fix .

bench: install
	$(PY) benchmarks/bench_overhead.py
	$(PY) benchmarks/bench_quality.py
	$(PY) benchmarks/bench_memory.py
	$(PY) benchmarks/bench_supervised_knn.py
	$(PY) benchmarks/bench_tsne.py

docs: install
	$(PY) -m pip install --quiet -e ".[docs]"
	$(PY) -m sphinx -W --keep-going -b html docs docs/_build/html

clean:
	rm -rf docs/_build docs/auto_examples docs/gen_modules $(OUT) .pytest_cache .ruff_cache
