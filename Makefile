# The two commands of the README: `make run` and `make test`. Everything else is for developers.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cksum requirements.txt | cut -d' ' -f1)
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test lint install migrate demo bench smoke backup restore clean

$(STAMP): requirements.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check -r requirements.txt
	@rm -f $(VENV)/.installed-* && touch $(STAMP)

install: $(STAMP)

# Embedded default: SQLite under var/, Celery eager (jobs run in-process), demo province and users.
run: export DJANGO_SETTINGS_MODULE = config.settings.local
run: $(STAMP)
	@mkdir -p var
	$(BIN)/python manage.py migrate --noinput -v0
	$(BIN)/python manage.py loaddemo
	@echo "==> http://$(HOST):$(PORT)/  (Ctrl+C để dừng)"
	$(BIN)/python manage.py runserver $(HOST):$(PORT)

# Uses PostgreSQL/Redis on 127.0.0.1 when they answer; REQUIRE_SERVICES=1 makes their absence an error.
test: export DJANGO_SETTINGS_MODULE = config.settings.test
test: $(STAMP)
	$(BIN)/ruff check .
	DATABASE_URL=sqlite:///:memory: $(BIN)/python manage.py makemigrations --check --dry-run -v0
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# The production shape for real: gunicorn, both Celery workers and beat through scripts/ (the commands
# docker-compose.yml runs) against the local PostgreSQL and Redis, driven over HTTP. Own database ptdv_smoke.
smoke: $(STAMP)
	$(BIN)/python tests/smoke/run.py

# pg_dump -Fc / pg_restore of DATABASE_URL (see docs/deploy.md). BACKUP_FILE=path picks the file.
backup:
	scripts/backup

restore:
	scripts/restore

# Issue #7: synthetic province (100,000 members) in PostgreSQL databases ptdv_bench and ptdv_bench_small,
# timings against the targets, bench-results/results.json. REGEN=1 rebuilds the databases; BENCH_ARGS passes
# options to bench/run.py (e.g. BENCH_ARGS="--skip-load --repeat 10"). Not part of `make test`.
bench: $(STAMP)
	$(BIN)/python -m bench.run $(if $(REGEN),--regen) $(BENCH_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) var/ptdv.sqlite3
