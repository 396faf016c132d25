# Two commands for a newcomer: `make run` (set up, ingest the sample corpus on first run, start
# the app) and `make test` (set up, run every test). Everything installs from the package
# registries only; nothing downloads model weights or browsers at run time.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup run test browser postgres bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[test]"
	touch $(STAMP)

setup: $(STAMP)

run: setup
	-$(BIN)/kb ingest   # first run indexes docs_corpus/; later runs only pick up changes
	$(BIN)/streamlit run ui/app.py --browser.gatherUsageStats false

# Debian's chromium for the end-to-end tests (Playwright drives it; it never downloads a browser).
browser:
	@command -v chromium >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; }

# Debian's PostgreSQL server programs: the tests start a throwaway server of their own (tests/postgres.py)
# in a temp dir on a free port, as the `postgres` system user the package creates when run as root.
postgres:
	@{ ls /usr/lib/postgresql/*/bin/initdb && id -u postgres; } >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql; }

test: setup browser postgres
	$(BIN)/ruff check .
	$(BIN)/python -m pytest

bench: setup postgres
	$(BIN)/python bench/ingest.py
	$(BIN)/python bench/query.py
	$(BIN)/python bench/outbox.py --database sqlite
	$(BIN)/python bench/outbox.py --database postgresql

clean:
	rm -rf $(VENV) data .pytest_cache
