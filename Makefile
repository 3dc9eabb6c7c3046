# The two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export SIXFOLD_DATA_DIR ?= $(CURDIR)/data

.PHONY: run test lint typecheck check install clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

.stamp-install: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

# The local Bluesky PDS the tests start (tools/pds): npm ci when node_modules is missing or the
# lockfile changed. better-sqlite3 compiles against the headers of the node that runs it.
PDS_STAMP := tools/pds/node_modules/.stamp-npm
$(PDS_STAMP): tools/pds/package-lock.json tools/pds/package.json
	cd tools/pds && npm_config_nodedir="$$(node -p 'require("path").resolve(process.execPath, "../..")')" \
		npm ci --no-audit --no-fund
	touch $@

install: .stamp-install $(PDS_STAMP)

## Start Sixfold on SQLite with the demo organisation at http://127.0.0.1:8000
run: .stamp-install
	$(BIN)/sixfold demo
	$(BIN)/sixfold serve --host 127.0.0.1 --port 8000

## Run every test: SQLite and PostgreSQL, browser tests in Chromium
test: .stamp-install $(PDS_STAMP)
	$(BIN)/pytest

lint: .stamp-install
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck: .stamp-install
	$(BIN)/mypy --strict src/

check: lint typecheck test

clean:
	rm -rf $(VENV) .stamp-install .pytest_cache .mypy_cache .ruff_cache
