"""`make backup` then `make restore` into a fresh database gives back the demo province row for row."""

import subprocess
import urllib.parse
from pathlib import Path

import psycopg2
import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="*** backup/restore needs PostgreSQL (pg_dump/pg_restore) ***"
)


def _url(name: str) -> str:
    s = connection.settings_dict
    auth = urllib.parse.quote(s["USER"] or "")
    if s["PASSWORD"]:
        auth += ":" + urllib.parse.quote(s["PASSWORD"])
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{name}"


def _admin(sql: str) -> None:
    conn = psycopg2.connect(_url("postgres"))
    conn.autocommit = True
    with conn.cursor() as cursor:
        cursor.execute(sql)
    conn.close()


def _snapshot(url: str) -> dict[str, set[str]]:
    """Every row of every table, as the md5 of its text form (row order does not matter)."""
    conn = psycopg2.connect(url)
    rows = {}
    with conn.cursor() as cursor:
        cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename")
        for (table,) in cursor.fetchall():
            cursor.execute(f'SELECT md5(t::text) FROM "{table}" t')
            hashes = [h for (h,) in cursor.fetchall()]
            assert len(hashes) == len(set(hashes)), f"{table} has identical rows"
            rows[table] = set(hashes)
    conn.close()
    return rows


def _make(target: str, **env: str) -> subprocess.CompletedProcess:
    import os

    result = subprocess.run(
        ["make", "-s", target], cwd=ROOT, env={**os.environ, **env}, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result


@pytest.fixture
def fresh_database():
    name = connection.settings_dict["NAME"] + "_restore"
    _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    _admin(f'CREATE DATABASE "{name}"')
    yield _url(name)
    _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.mark.django_db
def test_restore_of_the_demo_province_has_zero_row_differences(demo_province, fresh_database, tmp_path):
    source = _url(connection.settings_dict["NAME"])
    dump = tmp_path / "demo.dump"
    _make("backup", DATABASE_URL=source, BACKUP_FILE=str(dump))
    assert dump.stat().st_size > 0
    before = _snapshot(source)
    assert len(before["orgs_orgunit"]) > 300, "the demo province is in the dump"

    for attempt in ("into an empty database", "again over the restored one"):
        _make("restore", DATABASE_URL=fresh_database, BACKUP_FILE=str(dump))
        after = _snapshot(fresh_database)
        assert set(after) == set(before), attempt
        differences = {t: len(before[t] ^ after[t]) for t in before if before[t] != after[t]}
        assert differences == {}, f"{attempt}: rows differ in {differences}"
    print(f"restore diff: 0 rows differ over {len(before)} tables, {sum(map(len, before.values()))} rows")

    conn = psycopg2.connect(fresh_database)
    with conn.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_trigger WHERE tgname = 'core_auditlog_append_only'")
        assert cursor.fetchone()[0] == 1, "the audit log stays append-only after a restore"
    conn.close()


def test_restore_refuses_without_a_file():
    import os

    result = subprocess.run(
        ["make", "-s", "restore"],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": _url("nonexistent"), "BACKUP_FILE": "/nonexistent/x.dump"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "cannot read" in result.stderr
