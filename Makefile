# Two commands matter (see README): `make run` and `make test`. Everything else is a helper.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.requirements-installed
CHROMIUM := /usr/bin/chromium
# bash for `set -o pipefail` (progress lines are filtered through grep without hiding a failure;
# grep finding nothing, when every package is already installed, is not one).
SHELL := /bin/bash

.PHONY: setup run test lint typecheck pytest browser-deps postgres-deps bench bench-hot-merchant bench-reconcile load profile seed

## setup: create .venv and install requirements-dev.txt (again only when a requirements file changes)
setup: $(STAMP)

$(STAMP): requirements.txt requirements-dev.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is needed; found " + sys.version.split()[0] + ": run make PYTHON=python3.11 ...")'
	@test -x $(PY) || { echo "setup: creating the virtualenv in $(VENV) ..."; $(PYTHON) -m venv $(VENV); }
	@echo "setup: installing $$(cat requirements.txt requirements-dev.txt | grep -cvE '^[[:space:]]*(#|-r|$$)') pinned Python packages into $(VENV) (a few minutes the first time) ..."
	@set -o pipefail; $(PY) -m pip install --disable-pip-version-check --progress-bar off -r requirements-dev.txt \
		| { grep --line-buffered -E '^(Collecting|Successfully installed)' || true; } | sed -u 's/^/setup: /'
	@echo "setup: Python packages ready."
	@touch $@

## run: DynamoDB Local (persistent, port 8765) + migrations + the app on http://127.0.0.1:8000
run: setup
	$(PY) -m devtools.run_local

## test: ruff, mypy and the whole pytest suite (unit, DynamoDB Local, browser); runs all three
## even when one fails, so one run shows every problem, and fails if any failed
test: setup browser-deps postgres-deps
	@status=0; \
	$(MAKE) --no-print-directory lint || status=1; \
	$(MAKE) --no-print-directory typecheck || status=1; \
	$(MAKE) --no-print-directory pytest || status=1; \
	if [ $$status -ne 0 ]; then echo "make test: FAILED (see above)"; fi; \
	exit $$status

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: setup
	$(VENV)/bin/mypy .

## pytest: the whole suite on two processes (CI has two cores; PYTEST_WORKERS=0 runs it in one)
PYTEST_WORKERS ?= 2
pytest: setup
	$(VENV)/bin/pytest $(if $(filter 0,$(PYTEST_WORKERS)),,-n $(PYTEST_WORKERS))

## browser-deps: Debian's chromium for the browser tests (installed when we are root), and
## npm's axe-core (package.json) for the accessibility test
browser-deps: node_modules/.package-lock.json
node_modules/.package-lock.json: package.json package-lock.json
	@echo "browser-deps: installing axe-core from npm (package-lock.json) ..."
	npm ci --no-audit --no-fund --loglevel=error
browser-deps:
	@if [ -x $(CHROMIUM) ]; then :; \
	elif [ "$$(id -u)" = 0 ]; then \
		echo "Installing Debian chromium for the browser tests ..."; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	else \
		echo "$(CHROMIUM) is missing: run 'sudo apt-get install -y chromium' (browser tests are skipped without it, and fail in CI)."; \
	fi

## postgres-deps: Debian's postgresql for the two-server tests (installed when we are root)
postgres-deps:
	@if ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ]; then \
		echo "Installing Debian postgresql for the two-server tests ..."; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql >/dev/null; \
	else \
		echo "PostgreSQL is missing: run 'sudo apt-get install -y postgresql' (the two-server tests are skipped without it, and fail in CI)."; \
	fi

## bench: the dashboard's reads side by side with the starting app's way, on DynamoDB Local, for
## one merchant with SIZES payments (loaded data cached in .data/bench/ by schema fingerprint)
SIZES ?= 1000,10000,100000
bench: setup
	PYTHONPATH=. $(PY) scripts/bench_repository.py --sizes $(SIZES)

## load: the app under gunicorn with production settings, loaded over HTTP on loopback
## (LOAD_SIZE payments, LOAD_SECONDS per page and concurrency)
LOAD_SIZE ?= 100000
LOAD_SECONDS ?= 20
load: setup
	PYTHONPATH=. $(PY) scripts/load_http.py --size $(LOAD_SIZE) --seconds $(LOAD_SECONDS)

## profile: where each page's time goes (DynamoDB, templates, the rest), in-process, against
## the benchmark's merchant of PROFILE_SIZE payments; PROFILE_PAGE=list adds a cProfile of it
PROFILE_SIZE ?= 10000
PROFILE_PAGE ?=
profile: setup
	PYTHONPATH=. $(PY) scripts/profile_pages.py --size $(PROFILE_SIZE) $(if $(PROFILE_PAGE),--profile "$(PROFILE_PAGE)")

## bench-hot-merchant: one merchant's write throughput when transactions conflict as on AWS
bench-hot-merchant: setup
	PYTHONPATH=. $(PY) scripts/bench_hot_merchant.py

## bench-reconcile: DynamoDB work of reconcile_payments over 100,000 payments, 1,000 of them open
bench-reconcile: setup
	PYTHONPATH=. $(PY) scripts/bench_reconcile.py

## seed: COUNT sample payments (default 60) for MERCHANT in the database of a running `make run`
## (other terminal), made through the simulator as real ones are, dated over the past weeks
MERCHANT ?= dev|alice
COUNT ?= 60
seed: setup
	DJANGO_DEBUG=1 DYNAMODB_ENDPOINT_URL=$${DYNAMODB_ENDPOINT_URL:-http://127.0.0.1:8765} \
	AWS_ACCESS_KEY_ID=$${AWS_ACCESS_KEY_ID:-local} AWS_SECRET_ACCESS_KEY=$${AWS_SECRET_ACCESS_KEY:-local} \
	$(PY) manage.py seed_payments --user '$(MERCHANT)' --count '$(COUNT)'
