# Two commands for a newcomer: `make run` (product + demo data + worker + beat) and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PYTEST_ARGS ?=

.PHONY: run test venv lint security bench bench-scans bench-pages bench-digests bench-survey bench-import chaos load messages clean

$(VENV)/.installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

venv: $(VENV)/.installed

run: venv
	$(PY) manage.py migrate --noinput
	$(PY) manage.py collectstatic --noinput --verbosity 0
	# The demo's e-mails link to the server `scripts/run_local.sh` starts (HOST, PORT).
	SITE_URL=$${SITE_URL:-http://$${HOST:-127.0.0.1}:$${PORT:-8000}} $(PY) manage.py seed_demo
	scripts/run_local.sh

# One test process per core (pytest-xdist); PYTEST_ARGS="-n 0" runs them in this one.
test: venv
	$(PY) -m pytest -n auto $(PYTEST_ARGS)

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(PY) manage.py makemigrations --check --dry-run

# Apps with their own catalogue; the project's (locale/) holds templates/ and cem/, so the others
# are ignored by name there.
LOCALIZED_APPS := accounts finance_projects feedback complaints dashboard digests
APPS := $(LOCALIZED_APPS) security

messages: venv
	for app in $(LOCALIZED_APPS); do \
	  (cd $$app && ../$(PY) ../manage.py makemessages -l zh_Hans -l en --no-obsolete); done
	$(PY) manage.py makemessages -l zh_Hans -l en --no-obsolete $(foreach app,$(APPS),--ignore=$(app)) --ignore=.venv --ignore=tests --ignore=bench --ignore=scripts --ignore=staticfiles --ignore=var
	$(PY) manage.py compilemessages --ignore=.venv

security: venv
	scripts/security_checks.sh

# Benchmarks run on PostgreSQL (PG_URL, one database per benchmark, created and filled by it).
# SCALE=1.0 is the full dataset: 100,000 projects, 1,000,000 commitments, 5,000,000 touchpoints.
PG_URL ?= postgres://postgres@127.0.0.1:5432
SCALE ?= 0.1

bench: bench-scans bench-pages bench-digests bench-survey

bench-scans: venv
	DATABASE_URL=$(PG_URL)/cem_bench_scans $(PY) -m bench.scans --scale $(SCALE)

bench-pages: venv
	DEBUG=false DATABASE_URL=$(PG_URL)/cem_bench_pages $(PY) -m bench.pages --scale $(SCALE)

bench-digests: venv
	DATABASE_URL=$(PG_URL)/cem_bench_digests $(PY) -m bench.digests --scale $(SCALE)

bench-survey: venv
	$(PY) -m bench.survey_load --pairs 4 --duration 3 --database-url $(PG_URL)/cem_bench_survey

bench-import: venv
	DATABASE_URL=$(PG_URL)/cem_bench_import $(PY) -m pytest tests/finance_projects/test_import_scale.py -m slow -p no:xdist --durations=1 -q

# Faults and load, on loopback only, bounded in time (see README, "Security and reliability").
chaos: venv
	$(PY) scripts/chaos.py

load: venv
	$(PY) scripts/load.py --seconds 10 --threads 8

clean:
	rm -rf var staticfiles db.sqlite3
