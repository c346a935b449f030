# The two set-up commands: `make run` and `make test`. Everything they need, they install.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
VENDOR := src/shouyin/web/static/vendor

.PHONY: run serve test test-unit test-e2e lint format bench assets system-deps clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test,dev]'
	touch $(VENV)/.installed $@

# Front-end packages from the npm registry through the lockfile, copied into the app's own
# static folder: the app never loads anything from the internet.
$(VENDOR)/.stamp: package.json package-lock.json
	command -v npm >/dev/null || { [ "$$(id -u)" = 0 ] && apt-get update -qq && apt-get install -y -qq nodejs npm; }
	npm ci --no-audit --no-fund --loglevel=error
	mkdir -p $(VENDOR)
	cp node_modules/htmx.org/dist/htmx.min.js $(VENDOR)/htmx.min.js
	cp node_modules/alpinejs/dist/cdn.min.js $(VENDOR)/alpine.min.js
	cp node_modules/echarts/dist/echarts.min.js $(VENDOR)/echarts.min.js
	touch $@

assets: $(VENDOR)/.stamp

run: $(VENV)/.installed assets
	SHOUYIN_MODE=$${SHOUYIN_MODE:-demo} $(BIN)/shouyin db upgrade
	SHOUYIN_MODE=$${SHOUYIN_MODE:-demo} $(BIN)/shouyin demo --if-empty
	SHOUYIN_MODE=$${SHOUYIN_MODE:-demo} $(BIN)/shouyin serve

# PostgreSQL server, Chromium and CJK fonts from Debian's packages, when missing and root.
system-deps:
	@missing=""; \
	[ -x /usr/lib/postgresql/15/bin/pg_ctl ] || missing="$$missing postgresql"; \
	[ -x /usr/bin/chromium ] || missing="$$missing chromium"; \
	fc-list 2>/dev/null | grep -qi "WenQuanYi Micro Hei" || missing="$$missing fonts-wqy-microhei"; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	  else echo "Missing system packages:$$missing (run as root or install them)"; fi; \
	fi

test: system-deps $(VENV)/.installed-test assets
	$(BIN)/pytest -q -m "not e2e" -p no:playwright
	$(BIN)/pytest -q -m e2e tests/e2e

test-unit: $(VENV)/.installed-test
	$(BIN)/pytest -q tests/unit -p no:playwright

lint: $(VENV)/.installed-test
	$(BIN)/ruff check src tests
	$(BIN)/ruff format --check src tests
	$(BIN)/mypy

format: $(VENV)/.installed-test
	$(BIN)/ruff check --fix src tests
	$(BIN)/ruff format src tests

bench: $(VENV)/.installed assets
	$(BIN)/shouyin bench checkout
	$(BIN)/shouyin bench checkout-loyalty
	$(BIN)/shouyin bench shift-close
	$(BIN)/shouyin bench replenishment

clean:
	rm -rf $(VENV) node_modules $(VENDOR)
