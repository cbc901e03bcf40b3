# Two commands do all the set-up: `make run` and `make test` (see README.md).
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
PORT   ?= 8000
STAMP  := $(VENV)/.installed

.PHONY: run test lint format install lock migrate seed bench bench-quick bench-audit load fuzz audit-deps clean docs-check

# Exactly the versions in the lockfile, each checked against its hash; then the project itself.
$(STAMP): pyproject.toml requirements/dev.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements/dev.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

install: $(STAMP)

migrate: install
	DEBUG=$${DEBUG:-true} $(BIN)/python manage.py migrate --noinput
	DEBUG=$${DEBUG:-true} $(BIN)/python manage.py createcachetable

seed: migrate
	DEBUG=$${DEBUG:-true} $(BIN)/python manage.py seed_demo

## Serve the API on 127.0.0.1:$(PORT) with demo data (development: DEBUG on, generated keys),
## and the job worker beside it (audit sealing, nightly retention); Ctrl-C stops both.
run: seed
	@trap 'kill $$worker 2>/dev/null; wait $$worker 2>/dev/null' EXIT INT TERM; \
	DEBUG=$${DEBUG:-true} $(BIN)/python manage.py run_worker & worker=$$!; \
	DEBUG=$${DEBUG:-true} $(BIN)/python manage.py runserver 127.0.0.1:$(PORT)

## Install and run the whole test suite (SQLite by default; DATABASE_URL for PostgreSQL).
## PYTEST_WORKERS processes in parallel (pytest-xdist; default 2, CI's cores; 0 for one process).
test: install
	$(BIN)/python -m pytest -n $${PYTEST_WORKERS:-2} $(PYTEST_ARGS)

## The DPO documents (Art. 30 record, Art. 15 export) rendered by headless chromium to PDF, checked for raw codes.
docs-check: install
	REQUIRE_BROWSER=1 $(BIN)/python -m pytest -q -p no:cacheprovider tests/privacy/test_subject_export.py -k headless

## Load test: concurrent mixed clients against gunicorn on PostgreSQL, then a database check.
load: install
	$(BIN)/python -m bench.load --seconds $${LOAD_SECONDS:-30}

## Longer schema fuzzing (schemathesis): FUZZ_EXAMPLES per operation and role, FUZZ_STATEFUL_EXAMPLES scenarios.
fuzz: install
	FUZZ_EXAMPLES=$${FUZZ_EXAMPLES:-100} FUZZ_STATEFUL_EXAMPLES=$${FUZZ_STATEFUL_EXAMPLES:-25} \
		$(BIN)/python -m pytest -q tests/fuzz

## Update the lockfiles (newest versions pyproject.toml allows, with hashes; Python 3.11, any platform).
## requirements/prod.lock goes into the image, requirements/dev.lock into `make install`.
lock: install
	$(BIN)/uv pip compile pyproject.toml --generate-hashes --python-version 3.11 --universal --quiet \
		-o requirements/prod.lock
	$(BIN)/uv pip compile pyproject.toml --extra dev --generate-hashes --python-version 3.11 --universal --quiet \
		-o requirements/dev.lock

## Known vulnerabilities in the locked dependencies. Needs PyPI's advisory data (pypi.org JSON
## API): --strict fails when any package could not be audited, never a false all-clear.
audit-deps: install
	$(BIN)/pip-audit --strict --progress-spinner off --disable-pip --require-hashes -r requirements/dev.lock

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: install
	$(BIN)/python -m bench.run --size full
	$(BIN)/python -m bench.audit_scaling --verify 1000000

## Audit scaling (audited vs unaudited at 1-8 clients, pg_locks, sealing lag) and verification time.
bench-audit: install
	$(BIN)/python -m bench.audit_scaling --verify $${VERIFY_ENTRIES:-100000}

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache

## Benchmarks on PostgreSQL (BENCH_PG, default the local server); results in bench/results/.
bench-quick: install
	$(BIN)/python -m bench.run --size quick
