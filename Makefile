# The two commands: `make run` and `make test`. Everything else here serves them.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PYTEST_ARGS ?=
POSTGRES_URL ?= postgresql://postgres@127.0.0.1:5432/postgres

.PHONY: run test install lint typecheck test-sqlite test-postgresql clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

install: $(VENV)/.installed

run: install
	$(BIN)/tenantry serve

lint: install
	$(BIN)/ruff check src tests scripts
	$(BIN)/ruff format --check src tests scripts

typecheck: install
	$(BIN)/mypy

test-sqlite: install
	TENANTRY_TEST_BACKEND=sqlite $(BIN)/pytest $(PYTEST_ARGS)

# PostgreSQL is required when CI is set; elsewhere its absence skips the leg, loudly.
test-postgresql: install
	@if $(BIN)/python scripts/postgres_ready.py "$(POSTGRES_URL)"; then \
		TENANTRY_TEST_BACKEND=postgresql TENANTRY_TEST_POSTGRES_URL="$(POSTGRES_URL)" $(BIN)/pytest $(PYTEST_ARGS); \
	elif [ -n "$$CI" ]; then \
		echo "FAILED: CI is set and PostgreSQL is not reachable at $(POSTGRES_URL)"; exit 1; \
	else \
		echo ""; echo "*** SKIPPED the PostgreSQL leg: no server at $(POSTGRES_URL) (only SQLite was tested) ***"; \
	fi

test: lint typecheck test-sqlite test-postgresql

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
