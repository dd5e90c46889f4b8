# ESS developer commands. `make demo` and `make test` are the two that matter; both set up everything they need.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: install demo demo-ldap serve lint format test test-unit test-integration test-e2e lock messages clean

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

demo: install  ## set up the demo company (SQLite, local directory) and serve it on http://127.0.0.1:8000
	$(BIN)/ess db upgrade
	$(BIN)/ess demo seed
	$(BIN)/ess serve

demo-ldap: install  ## the demo against a throwaway slapd seeded with the demo company (needs root for apt-get once)
	bash scripts/ensure-test-deps.sh slapd ldap-utils
	$(BIN)/python scripts/demo_ldap.py

serve: install
	$(BIN)/ess serve

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

test: install  ## install the services the tests start (PostgreSQL, Chromium, ...) when missing, then run every test
	bash scripts/ensure-test-deps.sh
	$(BIN)/python -m pytest

test-unit: install
	$(BIN)/python -m pytest tests/unit

lock: install  ## refresh constraints.txt from the current virtual environment
	( echo '# Exact versions for every install (make, CI): pip install -c constraints.txt -e ".[dev]". Regenerate with `make lock`.'; \
	  $(BIN)/pip freeze --exclude-editable | grep -v '^ess' ) > constraints.txt

messages: install  ## extract translatable strings and update the catalogs
	$(BIN)/pybabel extract -F babel.cfg -k _ -k N_ -o ess/locales/messages.pot --no-location --sort-output \
	  --project=ESS --copyright-holder="ESS contributors" ess
	$(BIN)/pybabel update -i ess/locales/messages.pot -d ess/locales --no-fuzzy-matching

clean:
	rm -rf var .mypy_cache .ruff_cache .pytest_cache test-artifacts
