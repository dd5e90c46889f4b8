# ESS developer commands. `make demo` and `make test` are the two that matter; both set up everything they need,
# on a bare Debian 12 too (scripts/check-fresh-debian.sh proves it there).
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
ENSURE := PYTHON="$(PYTHON)" bash scripts/ensure-test-deps.sh
PYTEST := $(BIN)/python -m pytest
# make test spreads the modules over the cores (pytest-xdist; the grouping is in tests/conftest.py). One worker:
# make test TEST_WORKERS=0
TEST_WORKERS ?= auto

.PHONY: install demo demo-ldap serve lint format test test-deps test-unit test-integration test-e2e bench \
	check-fresh-debian lock messages clean

# A venv only counts while its python runs and imports pip. Anything less (a `python3.11 -m venv` that stopped for
# lack of ensurepip, an interrupted create, an interpreter that has gone) is removed and made again, stamp or not.
ifneq ($(wildcard $(STAMP)),)
ifneq ($(shell $(BIN)/python -c "import pip" >/dev/null 2>&1 && echo ok),ok)
.PHONY: $(STAMP)
endif
endif

$(STAMP): pyproject.toml constraints.txt
	@$(ENSURE) --demo
	@if ! $(BIN)/python -c "import pip" >/dev/null 2>&1; then \
		echo "make: creating $(VENV) with $(PYTHON)"; rm -rf $(VENV) && $(PYTHON) -m venv $(VENV); fi
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

demo: install  ## set up the demo company (SQLite, local directory) and serve it on http://127.0.0.1:8000 (ESS_PORT)
	$(BIN)/ess db upgrade
	$(BIN)/ess demo seed
	$(BIN)/ess serve

demo-ldap: install  ## the demo against a throwaway slapd seeded with the demo company (needs root for apt-get once)
	@$(ENSURE) slapd ldap-utils openssl
	$(BIN)/python scripts/demo_ldap.py

serve: install
	$(BIN)/ess serve

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/python scripts/check_architecture.py

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

test-deps: install  ## install what the whole suite needs (PostgreSQL, slapd, Samba AD, Chromium, ...) when missing
	@$(ENSURE) --test
	@bash scripts/ensure-oidc-provider.sh

test: test-deps  ## ... then run every test (each layer alone: test-unit, test-integration, test-e2e)
	$(PYTEST) -n $(TEST_WORKERS) --dist loadfile

test-unit: install  ## tests/unit: no services, no browser
	$(PYTEST) tests/unit

test-integration: install  ## tests/integration, against the real services (installed when missing)
	@$(ENSURE) --integration
	$(PYTEST) tests/integration

test-e2e: install  ## tests/e2e: the real server, services and headless Chromium (installed when missing)
	@$(ENSURE) --e2e
	$(PYTEST) tests/e2e

check-fresh-debian:  ## as root (~7 min, also in CI): make demo and make test in a bare Debian 12 made by debootstrap
	bash scripts/check-fresh-debian.sh

lock: install  ## refresh constraints.txt from the current virtual environment
	( echo '# Exact versions for every install (make, CI): pip install -c constraints.txt -e ".[dev]". Regenerate with `make lock`.'; \
	  $(BIN)/pip freeze --exclude-editable | grep -v '^ess' ) > constraints.txt

# The domain's refusals are English msgids: the first argument of each error class (the edge translates them).
DOMAIN_ERROR_KEYWORDS := $(foreach k,DomainError NotFound PermissionDenied AuthenticationFailed Throttled InvalidInput \
  PolicyViolation Conflict ServiceUnavailable PasswordChangeRequired SecondFactorRequired SecondFactorWrong \
  EnrolmentRequired LastFactorNeeded NoFactorYet LoginStepExpired YearNotOver WrongCurrentPassword InvalidLink \
  SecondFactorFailed NoRecoveryAddress PasswordLoginRefused SsoRefused HelpRequestError,-k $(k))

messages: install  ## extract translatable strings and update the catalogs
	$(BIN)/pybabel extract -F babel.cfg -k _ -k N_ $(DOMAIN_ERROR_KEYWORDS) -o ess/locales/messages.pot --no-location --sort-output \
	  --project=ESS --copyright-holder="ESS contributors" ess
	$(BIN)/pybabel update -i ess/locales/messages.pot -d ess/locales --no-fuzzy-matching

bench: install  ## every benchmark with its baseline and ratio (bench/run_all.py; BENCH_ARGS=--quick for a smoke run)
	$(BIN)/python bench/run_all.py $(BENCH_ARGS)

clean:
	rm -rf var .mypy_cache .ruff_cache .pytest_cache test-artifacts
