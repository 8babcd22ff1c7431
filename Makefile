# Two entry points: `make run` (the main job) and `make test` (lint, types, tests).
# Both create the virtual environment on first use.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: run test clean-venv

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

# With no source enabled in sources.toml (a fresh checkout), the offline demo runs instead.
run: $(BIN)/.installed
	$(BIN)/scraper run --demo-if-empty

test: $(BIN)/.installed
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/mypy
	# Bytecode is cached even where PYTHONDONTWRITEBYTECODE is set: the suite starts a few
	# hundred `scraper` processes, each of which would compile every module again.
	env -u PYTHONDONTWRITEBYTECODE $(BIN)/pytest -q -n auto

clean-venv:
	rm -rf $(VENV)
