# The two commands a user needs: `make demo` and `make test`. Each creates .venv by itself.
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: test demo lint typecheck pytest bench eval clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP)
	$(BIN)/pytest -q -n auto

test: lint typecheck pytest

demo: $(STAMP)
	$(BIN)/bestbot demo

bench: $(STAMP)
	$(BIN)/python -m benchmarks

eval: $(STAMP)
	$(BIN)/python benchmarks/eval_matching.py
	$(BIN)/python benchmarks/eval_triage.py

clean:
	rm -rf $(VENV) demo-outbox demo.sqlite3 .mypy_cache .pytest_cache .ruff_cache
