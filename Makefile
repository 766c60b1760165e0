# The README's two commands: `make demo` and `make test`. Both create .venv first.
PYTHON ?= python3
VENV ?= .venv
BIN = $(VENV)/bin

.PHONY: demo test lint typecheck ci clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@ $(VENV)/.installed

demo: $(VENV)/.installed
	$(BIN)/care demo $(ARGS)

# One pytest worker per core (pytest-xdist); `make test PYTEST_WORKERS=0` runs serially.
PYTEST_WORKERS ?= auto

test: $(VENV)/.installed-dev
	$(BIN)/pytest -n $(PYTEST_WORKERS) $(ARGS)

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(VENV)/.installed-dev
	$(BIN)/mypy

ci:
	bash .ci/run

clean:
	rm -rf $(VENV) data artifacts .pytest_cache .mypy_cache .ruff_cache
