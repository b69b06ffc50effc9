# The README's commands. Every target sets up .venv itself from the pinned constraints.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
UV_VERSION := 0.13.9
STAMP := $(VENV)/.installed
# Bytecode is compiled at install time; keep it usable even where PYTHONDONTWRITEBYTECODE is set.
export PYTHONDONTWRITEBYTECODE :=

.PHONY: install demo test test-fast test-external bench lint ui db-start db-stop clean lock

install: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -c 'import sys; assert sys.version_info[:2] == (3, 11), "Python 3.11 is required"'
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)
	$(BIN)/uv pip install --python $(BIN)/python --compile-bytecode --quiet -c constraints.txt -e '.[dev]'
	@touch $(STAMP)

# The demo night: the 15 counties of Quzhou and Lishui (all in the 26/29-county groups), 2012-2014, ~270
# files, 3–5 minutes on 2 cores. `make demo DEMO_COUNTIES=all` generates the whole province
# (~1,500 files for three years; validation costs ~0.5 s a file, see benchmarks/RESULTS.md). Both steps use
# $LOWINCOME_DATA_DIR/landing (default data/landing): generate writes there and run reads there.
DEMO_COUNTIES ?= 330802,330803,330822,330824,330825,330881,331102,331121,331122,331123,331124,331125,331126,331127,331181

demo: $(STAMP)
	$(BIN)/lowincome generate --years 2012-2014 --format mixed \
	  $(if $(filter all,$(DEMO_COUNTIES)),,--counties $(DEMO_COUNTIES))
	$(BIN)/lowincome run

test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

test-fast: $(STAMP)
	$(BIN)/python -m pytest -m "not slow and not browser" $(PYTEST_ARGS)

# The tests that talk to the warehouse (integration, convergence, dbt, marts) on an external PostgreSQL,
# 15 to 18: make test-external WAREHOUSE_URL=postgresql://USER@HOST:5432/postgres (a password in ~/.pgpass). Each session
# creates databases of its own there and drops them at the end. The marts of one night are compared
# with those of a fresh embedded PostgreSQL 18 (tests/integration/test_server_parity.py).
WAREHOUSE_URL ?= $(or $(LOWINCOME_WAREHOUSE_URL),postgresql://postgres@127.0.0.1:5432/postgres)
EXTERNAL_TESTS ?= tests/integration tests/dbt tests/marts

test-external: $(STAMP)
	@LOWINCOME_WAREHOUSE_URL='$(WAREHOUSE_URL)' $(BIN)/lowincome db status
	@LOWINCOME_WAREHOUSE_URL='$(WAREHOUSE_URL)' LOWINCOME_COMPARE_EMBEDDED=1 $(BIN)/python -m pytest $(EXTERNAL_TESTS) $(PYTEST_ARGS)

bench: $(STAMP)
	$(BIN)/python -m benchmarks $(BENCH_ARGS)

# ruff over the Python; sqlfluff (.sqlfluff: dbt templater, postgres) over dbt_project, which needs a
# PostgreSQL to connect to: include/lowincome/sql_lint.py says which, and starts the embedded one if down.
# SQLFLUFF_ARGS: other paths or options, e.g. make lint SQLFLUFF_ARGS='dbt_project/models/marts --format json'
SQLFLUFF_ARGS ?= dbt_project

lint: $(STAMP)
	$(BIN)/ruff check include dags plugins tests benchmarks
	$(BIN)/python -m lowincome.sql_lint $(SQLFLUFF_ARGS)

ui: $(STAMP)
	$(BIN)/lowincome ui

db-start: $(STAMP)
	$(BIN)/lowincome db start

db-stop: $(STAMP)
	$(BIN)/lowincome db stop

lock: $(STAMP)
	@(echo "# Exact versions of every package, seen to install together on Python 3.11 (Linux x86_64)."; \
	  echo "# Regenerate: make lock"; \
	  $(BIN)/uv pip freeze --python $(BIN)/python --exclude-editable | grep -viE '^(uv|lowincome)==') > constraints.txt

clean:
	-$(BIN)/lowincome db stop
	rm -rf $(VENV) .lowincome
