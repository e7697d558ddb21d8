"""Issue 6, security settings: deploy check, CSP and headers, no-store, lockout, session lifetimes, passwords."""

import datetime as dt
import json
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path
from unittest import mock

import pytest
from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import connection
from django.http import FileResponse, HttpResponse
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from core.middleware import NoStoreMiddleware

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "MatKhau@Test2026"


def _env_example() -> dict[str, str]:
    values = {}
    for line in (ROOT / ".env.example").read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            key, _, value = line.partition("=")
            values[key.strip()] = value.strip()
    return values


def _production_env(**overrides: str) -> dict[str, str]:
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": os.environ.get("HOME", "/tmp")}
    env.update(_env_example())
    env["SECRET_KEY"] = secrets.token_urlsafe(64)
    env.update(overrides)
    return env


def _manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


# --- production settings -------------------------------------------------------------------------------


def test_env_example_selects_the_production_settings():
    assert _env_example()["DJANGO_SETTINGS_MODULE"] == "config.settings.production"


def test_deploy_check_with_env_example_and_a_real_secret_reports_zero_warnings():
    result = _manage("check", "--deploy", "--fail-level", "WARNING", env=_production_env())
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "System check identified no issues (0 silenced)." in output
    assert "WARNINGS" not in output and "?: (security" not in output


@pytest.mark.parametrize(
    "override,message",
    [
        ({"SECRET_KEY": "change-me"}, "SECRET_KEY"),
        ({"SECRET_KEY": "x" * 60}, "SECRET_KEY"),
        ({"DEBUG": "1"}, "DEBUG"),
        ({"ALLOWED_HOSTS": ""}, "ALLOWED_HOSTS"),
        ({"DATABASE_URL": ""}, "DATABASE_URL"),
        ({"REDIS_URL": ""}, "REDIS_URL"),
        ({"CELERY_TASK_ALWAYS_EAGER": "1"}, "CELERY_TASK_ALWAYS_EAGER"),
        ({"AXES_FAILURE_LIMIT": "101"}, "AXES_FAILURE_LIMIT"),
    ],
)
def test_production_refuses_to_start_misconfigured(override, message):
    result = _manage("check", env=_production_env(**override))
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr and message in result.stderr


def test_production_logs_are_one_json_object_per_line():
    code = (
        "import django, logging; django.setup();"
        "logging.getLogger('ptdv.test').warning('Đã xuất báo cáo %s', 'kế hoạch', extra={'job_id': 42})"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**_production_env(), "DJANGO_SETTINGS_MODULE": "config.settings.production"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stderr.splitlines() if line.strip()]
    ours = [entry for entry in lines if entry["logger"] == "ptdv.test"]
    assert ours == [ours[0]] and ours[0]["message"] == "Đã xuất báo cáo kế hoạch"
    assert ours[0]["level"] == "WARNING" and ours[0]["job_id"] == 42 and "time" in ours[0]


# --- CSP and secure headers ------------------------------------------------------------------------------


def _csp(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    return {part.split()[0]: part.split()[1:] for part in header.split(";") if part.strip()}


def _inline_scripts(html: str) -> list[str]:
    return [tag for tag in re.findall(r"<script\b[^>]*>", html) if "src=" not in tag]


@pytest.mark.django_db
def test_pages_carry_a_strict_script_policy_and_the_secure_headers(world, client_for):
    response = client_for(world.persona("board_city")).get(reverse("home"))
    policy = _csp(response)
    assert "'unsafe-inline'" not in policy["script-src"] and "'unsafe-eval'" not in policy["script-src"]
    assert policy["object-src"] == ["'none'"] and policy["frame-ancestors"] == ["'none'"]
    assert policy["default-src"] == ["'self'"]
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"


@pytest.mark.django_db
def test_inline_scripts_carry_the_nonce_of_the_policy(world, client_for):
    client = client_for(world.persona("board_city"))
    response = client.get(reverse("orgs:tree"))
    scripts = _inline_scripts(response.content.decode())
    assert scripts, "the tree page has an inline script to check"
    nonces = {f"'nonce-{n}'" for tag in scripts for n in re.findall(r'nonce="([^"]+)"', tag)}
    assert len(nonces) == 1 and len(scripts) == len(re.findall(r"nonce=", " ".join(scripts)))
    assert nonces <= set(_csp(response)["script-src"])
    assert client.get(reverse("orgs:tree"))["Content-Security-Policy"] != response["Content-Security-Policy"]


def test_no_template_has_a_script_the_policy_would_block():
    """Inline <script> needs nonce="{{ request.csp_nonce }}"; inline handlers and javascript: URLs never run."""
    offenders = []
    for path in ROOT.glob("**/templates/**/*.html"):
        if ".venv" in path.parts:
            continue
        text = path.read_text(encoding="utf-8")
        for tag in _inline_scripts(text):
            if "request.csp_nonce" not in tag and "CSP_NONCE" not in tag:
                offenders.append(f"{path.relative_to(ROOT)}: {tag}")
        for handler in re.findall(r"<[^>]*\s(on[a-z]+|hx-on[:\w-]*)\s*=", text):
            offenders.append(f"{path.relative_to(ROOT)}: inline handler {handler}=")
        if "javascript:" in text:
            offenders.append(f"{path.relative_to(ROOT)}: javascript: URL")
    assert not offenders, "blocked by Content-Security-Policy:\n" + "\n".join(offenders)


# --- no-store -------------------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("url_name", ["home", "orgs:tree", "core:audit_log", "password_change"])
def test_pages_with_personal_data_are_not_stored(world, client_for, url_name):
    response = client_for(world.persona("board_city")).get(reverse(url_name))
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"


def test_files_sent_by_views_are_not_stored_but_static_files_may_be(tmp_path):
    document = tmp_path / "ke-hoach.pdf"
    document.write_bytes(b"%PDF-1.4 test")
    factory = RequestFactory()
    download = NoStoreMiddleware(lambda request: FileResponse(open(document, "rb"), as_attachment=True))
    response = download(factory.get("/bao-cao/tai/1/"))
    assert response["Cache-Control"] == "no-store"
    response.file_to_stream.close()
    static = NoStoreMiddleware(lambda request: HttpResponse("css", headers={"Cache-Control": "max-age=60"}))
    assert static(factory.get(settings.STATIC_URL + "css/app.css"))["Cache-Control"] == "max-age=60"


# --- login throttling -----------------------------------------------------------------------------------


def _login(client, username: str, password: str, ip: str = "10.0.0.1"):
    return client.post(reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=ip)


@pytest.mark.django_db
def test_account_locks_after_repeated_failures_even_from_other_addresses(world, client):
    user = world.persona("staff_branch")
    for attempt in range(settings.AXES_FAILURE_LIMIT - 1):
        response = _login(client, user.username, f"sai-mat-khau-{attempt}")
        assert response.status_code == 200, attempt
    assert _login(client, user.username, "sai-lan-cuoi").status_code == 429, "the limit-th failure locks"
    locked = _login(client, user.username, PASSWORD)
    assert locked.status_code == 429
    assert "_auth_user_id" not in client.session
    assert _login(client, user.username, PASSWORD, ip="10.9.9.9").status_code == 429


@pytest.mark.django_db
def test_no_more_than_100_password_guesses_per_hour_per_account(world, client):
    from accounts.models import User

    user = world.persona("staff_branch")
    real_check = User.check_password
    checked = []

    def counting_check(self, raw):
        checked.append(raw)
        return real_check(self, raw)

    with mock.patch.object(User, "check_password", counting_check):
        for attempt in range(150):
            _login(client, user.username, f"doan-mo-{attempt}", ip=f"10.1.{attempt // 250}.{attempt % 250}")
    assert settings.AXES_FAILURE_LIMIT <= 100
    assert 0 < len(checked) <= settings.AXES_FAILURE_LIMIT <= 100


@pytest.mark.django_db
def test_lockout_lifts_after_the_cool_off_hour(world, client):
    from axes.models import AccessAttempt

    user = world.persona("staff_branch")
    for attempt in range(settings.AXES_FAILURE_LIMIT):
        _login(client, user.username, f"sai-{attempt}")
    assert _login(client, user.username, PASSWORD).status_code == 429
    AccessAttempt.objects.update(attempt_time=timezone.now() - dt.timedelta(hours=1, minutes=1))
    assert _login(client, user.username, PASSWORD).status_code == 302


# --- session lifetimes ----------------------------------------------------------------------------------


class Clock:
    """Moves both clocks the session machinery reads: Django's timezone.now and the middleware's time."""

    def __init__(self):
        self.offset = dt.timedelta()
        self._now = timezone.now
        self._time = __import__("time").time

    def advance(self, **delta):
        self.offset += dt.timedelta(**delta)

    def __enter__(self):
        self._patches = [
            mock.patch("django.utils.timezone.now", lambda: self._now() + self.offset),
            mock.patch("core.middleware.time.time", lambda: self._time() + self.offset.total_seconds()),
        ]
        for patch in self._patches:
            patch.start()
        return self

    def __exit__(self, *exc):
        for patch in self._patches:
            patch.stop()


def _is_signed_in(client) -> bool:
    response = client.get(reverse("home"))
    return response.status_code == 200


@pytest.mark.django_db
def test_session_ends_after_30_idle_minutes(world, client):
    assert settings.SESSION_COOKIE_AGE == 30 * 60 and settings.SESSION_REFRESH_SECONDS <= 60
    user = world.persona("staff_branch")
    with Clock() as clock:
        assert _login(client, user.username, PASSWORD).status_code == 302
        assert _is_signed_in(client)
        clock.advance(minutes=29)
        assert _is_signed_in(client), "activity within 30 minutes keeps the session"
        clock.advance(minutes=29)
        assert _is_signed_in(client), "each request restarts the idle timer"
        clock.advance(minutes=31)
        response = client.get(reverse("home"))
        assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


@pytest.mark.django_db
def test_an_active_session_is_written_once_a_minute_not_on_every_request(world, client):
    from django.contrib.sessions.models import Session

    user = world.persona("staff_branch")
    with Clock() as clock:
        assert _login(client, user.username, PASSWORD).status_code == 302
        assert _is_signed_in(client)
        first = Session.objects.get().expire_date
        clock.advance(seconds=30)
        with CaptureQueriesContext(connection) as queries:
            assert _is_signed_in(client)
        assert not [q for q in queries if "django_session" in q["sql"] and q["sql"].startswith("UPDATE")]
        assert Session.objects.get().expire_date == first
        clock.advance(seconds=31)
        assert _is_signed_in(client)
        assert Session.objects.get().expire_date >= first + dt.timedelta(seconds=61)


@pytest.mark.django_db
def test_session_ends_after_12_hours_even_when_active(world, client):
    assert settings.SESSION_ABSOLUTE_SECONDS == 12 * 60 * 60
    user = world.persona("staff_branch")
    with Clock() as clock:
        assert _login(client, user.username, PASSWORD).status_code == 302
        assert _is_signed_in(client)
        for _ in range(11 * 60 // 25):  # a request every 25 minutes for 11 hours
            clock.advance(minutes=25)
            assert _is_signed_in(client)
        clock.advance(hours=12 - 11 * 60 // 25 * 25 / 60, minutes=1)
        response = client.get(reverse("home"))
        assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
        assert not _is_signed_in(client)


# --- passwords ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("weak", ["Ngan@2026", "Abc@12345xy", "password1234", "123456789012", "qwertyuiop123"])
def test_weak_passwords_are_refused(weak):
    with pytest.raises(ValidationError):
        validate_password(weak)


def test_a_long_uncommon_password_is_accepted():
    validate_password("Đồi thông hai mộ 1954")
    validate_password("PhatTrien@2026")


def test_eleven_characters_are_too_few_and_twelve_suffice():
    with pytest.raises(ValidationError, match="12"):
        validate_password("Kx9#mQ2$vL7")
    validate_password("Kx9#mQ2$vL7w")


@pytest.mark.django_db
def test_password_change_form_refuses_a_common_password(world, client_for):
    user = world.persona("staff_branch")
    response = client_for(user).post(
        reverse("password_change"),
        {"old_password": PASSWORD, "new_password1": "password1234", "new_password2": "password1234"},
    )
    assert response.status_code == 200
    assert response.context["form"].errors["new_password2"]
    user.refresh_from_db()
    assert user.check_password(PASSWORD)


def test_json_logs_keep_query_strings_out():
    """A searched name in a query string must not reach the logs (request reprs, gunicorn access lines)."""
    import logging

    from core.logformat import JsonFormatter

    request = RequestFactory().get("/ho-so/", {"q": "Nguyễn Văn Bí Mật"})
    record = logging.LogRecord("django.request", logging.WARNING, __file__, 1, "Not Found: %s", (request.path,), None)
    record.request = request
    record.status_code = 404
    entry = json.loads(JsonFormatter().format(record))
    assert entry["request"] == "GET /ho-so/" and entry["status_code"] == 404
    atoms = {"h": "10.0.0.9", "m": "GET", "U": "/ho-so/", "q": "q=Nguy%E1%BB%85n", "s": "200", "B": 512, "M": 12}
    access = logging.LogRecord("gunicorn.access", logging.INFO, __file__, 1, "%(m)s %(U)s %(s)s", (atoms,), None)
    line = JsonFormatter().format(access)
    assert "Nguy" not in line and "q=" not in line
    entry = json.loads(line)
    assert (entry["method"], entry["path"], entry["status"], entry["duration_ms"]) == ("GET", "/ho-so/", 200, 12)


@pytest.mark.django_db
def test_signing_in_issues_a_new_session_id_and_signing_out_kills_it_server_side(world, client):
    from django.contrib.sessions.models import Session

    client.get(reverse("login"))
    client.session.save()
    before = client.session.session_key
    assert _login(client, world.persona("staff_branch").username, PASSWORD).status_code == 302
    after = client.session.session_key
    assert after and after != before, "session fixation: the id must change at sign-in"
    client.post(reverse("logout"))
    assert not Session.objects.filter(session_key=after).exists()
    stolen = Client()
    stolen.cookies[settings.SESSION_COOKIE_NAME] = after
    assert stolen.get(reverse("home")).status_code == 302, "a copied cookie is useless after sign-out"


@pytest.mark.django_db
def test_forms_refuse_posts_without_the_csrf_token(world):
    client = Client(enforce_csrf_checks=True)
    response = client.post(reverse("login"), {"username": world.persona("staff_branch").username, "password": PASSWORD})
    assert response.status_code == 403
    client.force_login(world.persona("board_city"))
    assert client.post(reverse("logout")).status_code == 403
