"""docker-compose.yml cannot run here; this keeps it honest: same scripts as `make smoke`, sane services."""

import re
from pathlib import Path

import yaml

from tests.smoke import run as smoke

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
SERVICES = COMPOSE["services"]
APP_SERVICES = {"web", "worker", "worker-documents", "beat"}


def test_it_has_the_production_services():
    assert set(SERVICES) == {"postgres", "redis"} | APP_SERVICES


def test_each_application_service_runs_one_of_the_scripts_the_smoke_test_runs():
    for name in APP_SERVICES:
        command = SERVICES[name]["command"]
        assert isinstance(command, list) and len(command) == 1, f"{name}: {command}"
        script = command[0]
        assert re.fullmatch(r"scripts/[a-z-]+", script), f"{name} runs {script}, not a script"
        assert (ROOT / script).is_file(), script
        assert (ROOT / script).stat().st_mode & 0o111, f"{script} is not executable"
    assert {SERVICES[name]["command"][0].removeprefix("scripts/") for name in APP_SERVICES} == set(smoke.SCRIPTS)


def test_the_makefile_smoke_target_runs_the_smoke_runner():
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    target = re.search(r"^smoke:.*\n((?:\t.*\n)+)", makefile, re.M)
    assert target and "tests/smoke/run.py" in target.group(1)
    assert "make smoke" in (ROOT / ".ci" / "run").read_text(encoding="utf-8")


def test_every_service_has_a_health_check_and_app_services_read_env_file():
    for name, service in SERVICES.items():
        assert "healthcheck" in service and service["healthcheck"]["test"], name
    for name in APP_SERVICES:
        assert SERVICES[name]["env_file"] == ".env", name
    assert set(SERVICES["postgres"]["environment"]) == {"POSTGRES_DB", "POSTGRES_USER", "POSTGRES_PASSWORD"}
    assert "env_file" not in SERVICES["postgres"], "the database container does not get the app's secrets"


def test_data_lives_in_named_volumes():
    assert {"pgdata", "redisdata", "media"} <= set(COMPOSE["volumes"])
    assert "pgdata:/var/lib/postgresql/data" in SERVICES["postgres"]["volumes"]
    for name in APP_SERVICES:
        assert "media:/data/media" in SERVICES[name]["volumes"]


def test_exactly_one_beat():
    assert SERVICES["beat"]["deploy"]["replicas"] == 1
    assert sum(1 for s in SERVICES.values() if s.get("command") == ["scripts/beat"]) == 1


def test_documents_worker_serves_its_own_queue_with_bounded_memory():
    script = (ROOT / "scripts" / "worker-documents").read_text()
    assert "--queues documents" in script and "--max-memory-per-child" in script
    assert "--queues celery" in (ROOT / "scripts" / "worker").read_text()
    assert SERVICES["worker-documents"].get("mem_limit")


def test_web_serves_with_gunicorn_after_migrate_and_collectstatic():
    script = (ROOT / "scripts" / "web").read_text()
    assert script.index("migrate") < script.index("collectstatic") < script.index("gunicorn")


def test_workers_and_beat_wait_for_migrations():
    for name in ("worker", "worker-documents", "beat"):
        assert SERVICES[name]["depends_on"]["web"]["condition"] == "service_healthy"


def test_env_example_documents_every_variable_the_compose_file_and_scripts_read():
    documented = {
        line.split("=", 1)[0]
        for line in (ROOT / ".env.example").read_text().splitlines()
        if line and not line.startswith("#")
    }
    used = set()
    for path in (p for p in (ROOT / "scripts").iterdir() if p.is_file()):
        used |= set(re.findall(r"\$\{([A-Z_]+):-", path.read_text()))
        used |= set(re.findall(r'os\.environ\.get\("([A-Z_]+)"', path.read_text()))
    internal = {"PYTHON", "BIND", "BACKUP_FILE", "WEB_THREADS", "WEB_TIMEOUT", "FORWARDED_ALLOW_IPS", "DJANGO_SETTINGS_MODULE"}
    assert used - internal <= documented, sorted(used - internal - documented)
