# Rescue Ledger: `make run` serves the app, `make test` runs the whole suite.
# Both create .venv and install what they need on a fresh machine.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
FLASK := $(VENV)/bin/flask --app wsgi
HOST ?= 127.0.0.1
PORT ?= 5000
WORKERS ?= 2
PO_FILES := $(wildcard app/translations/*/LC_MESSAGES/messages.po)
MO_FILES := $(PO_FILES:.po=.mo)

.PHONY: run test lint bench messages translations install install-dev clean

$(VENV)/.installed: requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed requirements-dev.txt
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

%.mo: %.po $(VENV)/.installed
	$(VENV)/bin/pybabel compile -i $< -o $@

translations: $(MO_FILES)

run: install translations
	$(FLASK) db upgrade
	$(FLASK) seed demo
	@echo "Rescue Ledger on http://$(HOST):$(PORT) with its scheduler  (demo users: see README; Ctrl-C stops both)"
	VENV=$(VENV) HOST=$(HOST) PORT=$(PORT) WORKERS=$(WORKERS) exec bash scripts/serve-embedded.sh

test: install-dev translations
	bash scripts/run-tests.sh

lint: install-dev
	$(VENV)/bin/ruff check .

# Benchmarks on SQLite, and on a throwaway PostgreSQL when its binaries are found.
bench: install-dev translations
	bash scripts/with-postgres.sh $(PY) -m bench; status=$$?; \
	if [ $$status -eq 3 ]; then $(PY) -m bench; else exit $$status; fi

messages: install
	$(VENV)/bin/pybabel extract -F babel.cfg -k _l -k lazy_gettext -k lazy_pgettext:1c,2 -o messages.pot .
	$(VENV)/bin/pybabel update --no-fuzzy-matching -i messages.pot -d app/translations
	$(MAKE) translations

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
