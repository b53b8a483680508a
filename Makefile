# The two commands: `make run` and `make test`. Everything else here serves them.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PYTEST_ARGS ?= -n auto
POSTGRES_URL ?= postgresql://postgres@127.0.0.1:5432/postgres

.PHONY: run test install lint typecheck test-sqlite test-postgresql bench clean

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
	$(BIN)/ruff check src tests scripts bench
	$(BIN)/ruff format --check src tests scripts bench
	$(BIN)/lint-imports

typecheck: install
	$(BIN)/mypy

# Each leg runs the suite in parallel, then the tests marked `serial` alone (exit code 5: none selected).
SERIAL := -p no:xdist -m serial

test-sqlite: install
	TENANTRY_TEST_BACKEND=sqlite $(BIN)/pytest $(PYTEST_ARGS) -m "not serial"
	TENANTRY_TEST_BACKEND=sqlite $(BIN)/pytest $(SERIAL) $(filter-out -n auto,$(PYTEST_ARGS)) || [ $$? -eq 5 ]

# PostgreSQL is required when CI is set; elsewhere its absence skips the leg, loudly.
test-postgresql: install
	@if $(BIN)/python scripts/postgres_ready.py "$(POSTGRES_URL)"; then \
		export TENANTRY_TEST_BACKEND=postgresql TENANTRY_TEST_POSTGRES_URL="$(POSTGRES_URL)"; \
		$(BIN)/pytest $(PYTEST_ARGS) -m "not serial" && { $(BIN)/pytest $(SERIAL) $(filter-out -n auto,$(PYTEST_ARGS)) || [ $$? -eq 5 ]; }; \
	elif [ -n "$$CI" ]; then \
		echo "FAILED: CI is set and PostgreSQL is not reachable at $(POSTGRES_URL)"; exit 1; \
	else \
		echo ""; echo "*** SKIPPED the PostgreSQL leg: no server at $(POSTGRES_URL) (only SQLite was tested) ***"; \
	fi

test: lint typecheck test-sqlite test-postgresql

# Benchmarks (not part of make test): `make bench` is quick (~2 min); `make bench FULL=1` seeds 1M users.
# BENCH_BACKENDS picks the databases; see bench/README.md. Needs wrk and taskset.
BENCH_BACKENDS ?= postgresql sqlite
PEERS := bench/.venv-peers

$(PEERS)/.installed: bench/peers/requirements.txt
	$(PYTHON) -m venv $(PEERS)
	$(PEERS)/bin/python -m pip install --quiet -r bench/peers/requirements.txt
	touch $@

bench: install $(PEERS)/.installed
	@command -v wrk >/dev/null || { echo "make bench needs wrk (Debian: apt-get install wrk)"; exit 1; }
	@command -v taskset >/dev/null || { echo "make bench needs taskset (util-linux)"; exit 1; }
	@for backend in $(BENCH_BACKENDS); do \
		$(BIN)/python -m bench.run --backend $$backend $(if $(FULL),--full) || exit 1; \
	done

clean:
	rm -rf $(VENV) $(PEERS) .pytest_cache .mypy_cache .ruff_cache .hypothesis
