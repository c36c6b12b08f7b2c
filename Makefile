# Two commands do all set-up on a fresh machine:
#   make demo   — create .venv, install Jingwu, run the demo city (Harbin) at http://127.0.0.1:8000/
#   make test   — create .venv, install test dependencies, lint and run the whole test suite
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo serve test lint bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/jingwu demo $(ARGS)

serve: $(STAMP)
	$(BIN)/jingwu serve $(ARGS)

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy --strict src/jingwu/domain src/jingwu/dispatch src/jingwu/errors.py
	$(BIN)/mypy src/jingwu

test: $(STAMP) lint
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: $(STAMP)
	$(BIN)/jingwu bench dispatch

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
