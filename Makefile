# Two commands on a fresh machine: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint unit install bytecode clean

# The virtualenv, (re)installed when pyproject.toml changes.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

# Where Python writes no bytecode as it imports (PYTHONDONTWRITEBYTECODE), every process would
# compile Accord's modules again (about half a second of each `accord dev` start): compiled
# here once, and again only for what changed.
bytecode: $(STAMP)
	$(BIN)/python -m compileall -q accord shared services bench tests

## Run Accord: one process, embedded PostgreSQL, in-process bus, GraphQL (URL printed).
## `make run DEMO=1` also loads the demo contract.
run: bytecode
	$(BIN)/python -m accord.infra.graphiql >/dev/null
	$(BIN)/accord dev $(if $(DEMO),--demo)

## Lint: ruff, mypy strict on shared/ and services/, import-linter contracts.
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

## Test: lint, then the whole suite on a real PostgreSQL and a real Kafka broker started here
## (and Debian's chromium for the browser tests, installed when missing), in TEST_WORKERS
## processes sharing that server and broker; the slowest tests are listed at the end.
TEST_WORKERS ?= 2
test: lint bytecode
	$(BIN)/python -m accord.infra.graphiql >/dev/null
	$(BIN)/python -m accord.infra jars
	./scripts/chromium.sh
	$(BIN)/python -m accord.infra run --brokers $(TEST_WORKERS) -- $(BIN)/pytest -q -n $(TEST_WORKERS) --dist loadfile --durations=15 $(PYTEST_ARGS)

unit: $(STAMP)
	$(BIN)/pytest -q tests/unit

clean:
	rm -rf $(VENV) .cache .accord
