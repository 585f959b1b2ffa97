# Two commands for a fresh Debian/Ubuntu machine: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: test lint demo docs site bench matrix system venv node clean

test: system venv node  ## the whole suite, live servers and browser included
	$(BIN)/python -m pytest

lint: venv  ## ruff (lint and format) and mypy (strict on advisor/)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

demo: system venv node  ## throwaway PostgreSQL + PgBouncer, probe both, build and serve the site
	$(BIN)/python -m tests.demo

docs: venv node  ## serve the site on http://127.0.0.1:8000
	$(BIN)/mkdocs serve -a 127.0.0.1:8000

site: venv node  ## build the site into site/
	$(BIN)/mkdocs build --strict

bench: system venv  ## measure, write bench/results.json and docs/performance.md
	$(BIN)/python -m bench.run

matrix: system venv node  ## re-measure the real-driver matrix and publish it (docs/data/driver-matrix.json)
	ADVISOR_UPDATE_MATRIX=1 $(BIN)/python -m pytest tests/test_driver_matrix.py -q

system:  ## install missing system packages (Debian/Ubuntu, as root)
	@bash .ci/system-packages

venv: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test,docs,lint]'
	touch $@

node: node_modules/.installed  ## Pyodide for the browser tools (npm ci, versions pinned in package-lock.json)

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

clean:
	rm -rf $(VENV) node_modules site build *.egg-info test-artifacts .pytest_cache
