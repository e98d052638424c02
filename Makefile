# Two commands do all the set-up (see README): `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: run test lint bench-drain clean

$(STAMP): setup.cfg pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test,postgres]'
	touch $(STAMP)

## Set up and run the service on the embedded default (SQLite; dry-run until credentials are set).
run: $(STAMP)
	$(BIN)/bridge run

## Set up and run the whole test suite (what CI runs).
test: $(STAMP)
	$(BIN)/ruff check bridge tests bench wsgi.py
	$(BIN)/pytest

lint: $(STAMP)
	$(BIN)/ruff check bridge tests bench wsgi.py
	$(BIN)/ruff format --check bridge tests bench wsgi.py

bench-drain: $(STAMP)
	$(BIN)/python bench/drain.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache
