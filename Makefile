# Billing gateway: developer entry points. See README / DESIGN.md "Running it".
#   make setup       .venv + Python deps (pinned by constraints.txt), GraphiQL assets, the
#                    graphql-http audit suite and graphql-schema-linter (npm ci),
#                    Debian packages libharfbuzz-subset0 + chromium when root (best effort)
#   make run         demo server on http://127.0.0.1:8000/graphql
#   make test        pytest on SQLite, then again on PostgreSQL if BILLING_TEST_POSTGRES_URL is set
#   make lint        ruff + mypy
#   make bench       GraphQL vs a hand-written endpoint, SQL per request, payInvoice (bench/run.py)
#   make bench-documents   invoice PDF latency, pool throughput, GraphQL p99 while rendering
# Setup is stamp-based: a second `make setup` does nothing unless pyproject.toml,
# constraints.txt or the IDE's package(-lock).json changed. APT=0 skips apt-get.

SHELL := /bin/bash
PYTHON ?= python3
APT ?= 1
VENV := .venv
BIN := $(VENV)/bin
IDE_DIR := gateway/ide_assets
VENV_STAMP := $(VENV)/.stamp
IDE_STAMP := $(IDE_DIR)/node_modules/.stamp
AUDIT_DIR := tests/security/http_audit
AUDIT_STAMP := $(AUDIT_DIR)/node_modules/.stamp
LINT_DIR := tests/schema_lint
LINT_STAMP := $(LINT_DIR)/node_modules/.stamp
AXE_DIR := tests/portal/axe
AXE_STAMP := $(AXE_DIR)/node_modules/.stamp
APT_PACKAGES := libharfbuzz-subset0 chromium

.PHONY: setup system-packages run test lint migrations bench bench-documents clean

setup: $(VENV_STAMP) $(IDE_STAMP) $(AUDIT_STAMP) $(LINT_STAMP) $(AXE_STAMP) system-packages

$(VENV_STAMP): pyproject.toml constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --disable-pip-version-check -q -c constraints.txt -e '.[dev]'
	@touch $@

$(IDE_STAMP): $(IDE_DIR)/package.json $(IDE_DIR)/package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
	  cd $(IDE_DIR) && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error && touch node_modules/.stamp; \
	else \
	  echo "setup: npm not found; GraphiQL assets not installed (the IDE answers 503 until they are)." >&2; \
	fi

# The graphql-http audit suite (GraphQL over HTTP), run by tests/security against a
# loopback server; pinned by its package-lock.json.
$(AUDIT_STAMP): $(AUDIT_DIR)/package.json $(AUDIT_DIR)/package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
	  cd $(AUDIT_DIR) && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error && touch node_modules/.stamp; \
	else \
	  echo "setup: npm not found; the GraphQL-over-HTTP audit will be SKIPPED by the tests." >&2; \
	fi

# graphql-schema-linter (descriptions, Relay rules on schema/schema.graphql), run by
# tests/schema_lint; pinned by its package-lock.json. Required in CI (CI=true).
$(LINT_STAMP): $(LINT_DIR)/package.json $(LINT_DIR)/package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
	  cd $(LINT_DIR) && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error && touch node_modules/.stamp; \
	else \
	  echo "setup: npm not found; the schema lint will be SKIPPED by the tests (FAILED when CI=true)." >&2; \
	fi

# axe-core (WCAG 2.1 AA checks of the portal), injected by tests/portal/axe.py; pinned by
# its package-lock.json.
$(AXE_STAMP): $(AXE_DIR)/package.json $(AXE_DIR)/package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
	  cd $(AXE_DIR) && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error && touch node_modules/.stamp; \
	else \
	  echo "setup: npm not found; the portal's accessibility checks will FAIL." >&2; \
	fi

# Best effort, never fails: installs what is missing when root and apt-get exists.
system-packages:
	@missing=""; \
	if command -v dpkg-query >/dev/null 2>&1; then \
	  for p in $(APT_PACKAGES); do \
	    dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'install ok installed' || missing="$$missing $$p"; \
	  done; \
	fi; \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if [ "$(APT)" = 1 ] && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  echo "setup: apt-get install$$missing"; \
	  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; } >/dev/null \
	    || echo "setup: warning: apt-get install$$missing failed (continuing)" >&2; \
	else \
	  echo "setup: note: Debian packages missing:$$missing (PDFs are slower without libharfbuzz-subset0; chromium is for browser checks)" >&2; \
	fi

run: setup
	$(BIN)/billing-gateway demo

test: setup
	env -u BILLING_TEST_DATABASE $(BIN)/python -m pytest $(PYTEST_ARGS)
	@if [ -n "$$BILLING_TEST_POSTGRES_URL" ]; then \
	  echo "== test suite again on PostgreSQL"; \
	  set -x; BILLING_TEST_DATABASE=postgres $(BIN)/python -m pytest $(PYTEST_ARGS); \
	else \
	  echo "(BILLING_TEST_POSTGRES_URL not set: the PostgreSQL run is skipped)"; \
	fi

lint: setup
	$(BIN)/ruff check .
	$(BIN)/mypy

bench: setup
	$(BIN)/python bench/run.py $(BENCH_ARGS)

bench-documents: setup
	$(BIN)/python bench/documents.py $(BENCH_ARGS)

migrations: setup
	$(BIN)/billing-gateway makemigrations

clean:
	rm -rf $(VENV) $(IDE_DIR)/node_modules $(AUDIT_DIR)/node_modules $(LINT_DIR)/node_modules .pytest_cache .mypy_cache .ruff_cache build dist *.egg-info
	find . -name __pycache__ -type d -not -path './.git/*' -prune -exec rm -rf {} +
