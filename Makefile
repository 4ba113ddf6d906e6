# Paperboy: `make run` runs the whole service locally, `make test` runs the suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
CHROMIUM ?= /usr/bin/chromium
# Local defaults: debug pages, the outbox page, no HTTPS redirects.
LOCAL_ENV := DEBUG=true SITE_URL=http://127.0.0.1:$(PORT) PATH=$(CURDIR)/$(BIN):$$PATH

.PHONY: run test lint format clean screenshots

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed requirements-dev.txt
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

run: $(VENV)/.installed
	$(LOCAL_ENV) $(BIN)/python manage.py migrate --noinput
	$(LOCAL_ENV) $(BIN)/python manage.py load_sample
	@$(LOCAL_ENV) $(BIN)/python manage.py fetch_papers \
	  || echo "  Some sources could not be fetched (offline?): see Sources in the admin."
	@echo
	@echo "  Paperboy is starting: open http://127.0.0.1:$(PORT)/"
	@echo "  Email goes to the outbox: http://127.0.0.1:$(PORT)/outbox/ (files in var/outbox/)"
	@echo "  Staff admin: http://127.0.0.1:$(PORT)/admin/ (make a login: $(BIN)/python manage.py createsuperuser)"
	@echo
	$(LOCAL_ENV) WEB_HOST=127.0.0.1 $(BIN)/honcho start --port $(PORT) web worker beat

# The browser tests drive Debian's Chromium (no browser download).
$(CHROMIUM):
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium

test: $(VENV)/.installed-dev $(CHROMIUM)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/pytest

# The README's screenshots, taken by the browser tests in a real Chromium.
screenshots: $(VENV)/.installed-dev $(CHROMIUM)
	SCREENSHOTS_DIR=$(CURDIR)/docs/screenshots $(BIN)/pytest -q tests/browser

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(VENV)/.installed-dev
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf var staticfiles .pytest_cache .ruff_cache
