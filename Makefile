# Two commands for a newcomer: `make run` (product + demo data + worker + beat) and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PYTEST_ARGS ?=

.PHONY: run test venv lint security bench chaos load messages clean

$(VENV)/.installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

venv: $(VENV)/.installed

run: venv
	$(PY) manage.py migrate --noinput
	$(PY) manage.py collectstatic --noinput --verbosity 0
	$(PY) manage.py seed_demo
	scripts/run_local.sh

test: venv
	$(PY) -m pytest $(PYTEST_ARGS)

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(PY) manage.py makemigrations --check --dry-run

messages: venv
	for app in accounts finance_projects feedback complaints dashboard; do \
	  (cd $$app && ../$(PY) ../manage.py makemessages -l zh_Hans -l en --no-obsolete); done
	$(PY) manage.py makemessages -l zh_Hans -l en --no-obsolete --ignore='*/*' --ignore=.venv
	$(PY) manage.py compilemessages --ignore=.venv

security: venv
	scripts/security_checks.sh

bench: venv
	$(PY) manage.py bench_scans --scale $${SCALE:-0.1}

clean:
	rm -rf var staticfiles db.sqlite3
