# Two commands do all the set-up (see README): `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# The test stamp: runtime + PostgreSQL driver + test tools. The run stamp: what running needs, nothing else.
STAMP := $(VENV)/.installed-stamp
RUN_STAMP := $(VENV)/.runtime-stamp

.PHONY: run test test-fast lint bench-drain screenshots clean

$(STAMP): setup.cfg pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test,postgres]'
	touch $(STAMP) $(RUN_STAMP)

$(RUN_STAMP): setup.cfg pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e .
	touch $(RUN_STAMP)

## Set up and run the service on the embedded default (SQLite; dry-run until credentials are set).
run: $(RUN_STAMP)
	$(BIN)/storebridge run

## Set up and run the whole test suite (what CI runs).
test: $(STAMP)
	$(BIN)/ruff check bridge tests bench wsgi.py
	$(BIN)/lint-imports
	$(BIN)/mypy --strict bridge
	$(BIN)/pytest -n 2

## The unit layer, for the minute loop while you work: everything not marked `slow` (no worker, no real
## processes, no real waits; see tests/conftest.py). Run `make test` before you push.
test-fast: $(STAMP)
	$(BIN)/pytest -n 2 -q -m "not slow"

## Style, the layers contract (setup.cfg [importlinter]) and the type check, without the tests.
lint: $(STAMP)
	$(BIN)/ruff check bridge tests bench wsgi.py
	$(BIN)/ruff format --check bridge tests bench wsgi.py
	$(BIN)/lint-imports
	$(BIN)/mypy --strict bridge

bench-drain: $(STAMP)
	$(BIN)/python bench/drain.py

## Retake docs/dashboard.png and docs/dashboard-event.png from the running dashboard (needs Debian's chromium).
screenshots: $(STAMP)
	STOREBRIDGE_SCREENSHOTS=docs $(BIN)/pytest -n 0 tests/admin/test_browser.py -k docs_screenshots

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache
