# The two commands of the README: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test lint messages bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

## Start the portal on the embedded default (SQLite, file broker, mail to var/) at http://localhost:8000
## (not 127.0.0.1: browsers refuse security keys on an IP address; development redirects it)
run: $(VENV)/.installed
	$(BIN)/python manage.py migrate --no-input
	$(BIN)/python manage.py load_demo_data
	$(BIN)/python manage.py load_fido_metadata
	$(BIN)/python manage.py load_fido_metadata --development
	$(BIN)/python manage.py nia_sp_metadata var/portal-sp-metadata.xml
	$(BIN)/python manage.py seed_govsim --portal-metadata var/portal-sp-metadata.xml
	$(BIN)/python manage.py runstack

## Lint, check migrations and run every test against the real PostgreSQL and Redis
test: $(VENV)/.installed
	$(BIN)/python scripts/check_services.py
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python manage.py makemigrations --check --dry-run
	DJANGO_SETTINGS_MODULE=mojeid.settings_test $(BIN)/pytest

lint: $(VENV)/.installed
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

## Refresh the translation catalogues after changing strings (needs GNU gettext)
messages: $(VENV)/.installed
	$(BIN)/python manage.py makemessages --locale cs --locale en --ignore '.venv/*' --ignore 'var/*'
	$(BIN)/python manage.py compilemessages --ignore '.venv/*'

bench: $(VENV)/.installed
	DJANGO_SETTINGS_MODULE=mojeid.settings_test $(BIN)/python bench/login.py

clean:
	rm -rf var
