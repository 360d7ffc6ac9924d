# The two commands of the README: `make run` and `make test`.
# Everything the project needs is installed from here into .venv.
SHELL := /bin/bash
.DEFAULT_GOAL := run
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# Django 6 needs Python >= 3.12: take PYTHON if given, else the first 3.12+ interpreter found
# on PATH or in pyenv's install folder.
PYTHON ?= $(shell for p in python3.12 python3.13 python3.14 python3 \
	$$HOME/.pyenv/versions/3.12*/bin/python3 $$HOME/.pyenv/versions/3.13*/bin/python3 \
	/usr/local/bin/python3.12 /usr/bin/python3.12 /usr/bin/python3.13; do \
	  $$p -c 'import sys; sys.exit(sys.version_info < (3, 12))' >/dev/null 2>&1 && { echo $$p; break; }; \
	done)

.PHONY: run test venv lint format typecheck bench migrations-check remigrate clean

$(STAMP): pyproject.toml
	@test -n "$(PYTHON)" || { echo "Python 3.12+ is required (Django 6). Set PYTHON=/path/to/python3.12"; exit 1; }
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	@touch $(STAMP)

venv: $(STAMP)

run: $(STAMP)
	DEBUG=$${DEBUG:-1} $(PY) manage.py runworkbench

test: $(STAMP)
	$(PY) -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(STAMP)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

typecheck: $(STAMP)
	DEBUG=1 $(VENV)/bin/mypy annotations workbench/settings.py workbench/urls.py workbench/celery.py

migrations-check: $(STAMP)
	$(PY) manage.py makemigrations --check --dry-run

# Each script in bench/ prints a table of figures with its corpus size.
bench: $(STAMP)
	@set -e; for f in bench/*.py; do \
	  case $$f in */_*|*/corpus.py) continue;; esac; \
	  echo "== $$f"; $(PY) $$f; done

# Before the first release the schema is one initial migration: regenerate it after a model
# change (nothing has been deployed that would need a second migration).
# Hand-written migrations after 0001 (PostgreSQL search indexes) are set aside meanwhile.
remigrate: $(STAMP)
	rm -f annotations/migrations/0001_initial.py
	mkdir -p var/migrations-aside && mv annotations/migrations/0002_*.py var/migrations-aside/
	DEBUG=1 $(PY) manage.py makemigrations annotations --name initial || true
	mv var/migrations-aside/0002_*.py annotations/migrations/
	$(VENV)/bin/ruff format annotations/migrations
	test -f annotations/migrations/0001_initial.py

clean:
	rm -rf $(VENV) var test-artifacts
