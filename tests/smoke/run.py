"""`make smoke`: the production shape, for real, on this machine.

Starts the processes docker-compose.yml runs (scripts/web = migrate + collectstatic + gunicorn,
scripts/worker, scripts/worker-documents, scripts/beat) with the production settings against the
local PostgreSQL (its own database, created and dropped here) and Redis (db 9), loads the demo,
then acts as a user over HTTP on loopback: signs in, opens pages, records a pipeline step, waits for
the worker to update attainment, downloads a report. Stops everything it started, whatever happens.

Exit code 0 when every step passed; 1 otherwise, with the last lines of each process's log.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PYTHON = str(ROOT / ".venv" / "bin" / "python") if (ROOT / ".venv" / "bin" / "python").exists() else sys.executable
SCRIPTS = ("web", "worker", "worker-documents", "beat")
DEMO_PASSWORD = "PhatTrien@2026"
STEP_TIMEOUT = float(os.environ.get("SMOKE_STEP_TIMEOUT", "120"))


class SmokeFailure(Exception):
    pass


def log(message: str) -> None:
    print(f"[smoke {time.strftime('%H:%M:%S')}] {message}", flush=True)


def wait_for(what: str, probe: Callable[[], object], timeout: float = STEP_TIMEOUT, interval: float = 1.0):
    """Call probe until it returns something truthy; fail with `what` after timeout seconds."""
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        try:
            result = probe()
        except (OSError, http.client.HTTPException, SmokeFailure, ValueError) as exc:
            last_error, result = exc, None
        if result:
            return result
        time.sleep(interval)
    raise SmokeFailure(f"timed out after {timeout:.0f}s waiting for {what} (last error: {last_error!r})")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- the environment: the same variables .env.example documents, pointed at loopback ----------------------


def smoke_environment(workdir: Path, port: int) -> dict[str, str]:
    base_db = urllib.parse.urlsplit(os.environ.get("SMOKE_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/"))
    database_url = urllib.parse.urlunsplit(base_db._replace(path="/" + os.environ.get("SMOKE_DB_NAME", "ptdv_smoke")))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "CELERY_"))}
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings.production",
            "PYTHON": PYTHON,
            "SECRET_KEY": secrets.token_urlsafe(64),
            "DATABASE_URL": database_url,
            "REDIS_URL": os.environ.get("SMOKE_REDIS_URL", "redis://127.0.0.1:6379/9"),
            "ALLOWED_HOSTS": "127.0.0.1",
            "CSRF_TRUSTED_ORIGINS": f"https://127.0.0.1:{port}",
            "BIND": f"127.0.0.1:{port}",
            "WEB_CONCURRENCY": "2",
            "CELERY_CONCURRENCY": "1",
            "DOCUMENTS_CONCURRENCY": "1",
            "HEARTBEAT_SECONDS": "2",
            "HEARTBEAT_MAX_AGE": "30",
            "MIGRATE_ON_START": "1",
            "MEDIA_ROOT": str(workdir / "media"),
            "STATIC_ROOT": str(workdir / "static"),
            "LOG_LEVEL": "INFO",
        }
    )
    env.pop("DEBUG", None)
    env.pop("CELERY_TASK_ALWAYS_EAGER", None)
    return env


def _admin_dsn(database_url: str) -> tuple[str, str]:
    parts = urllib.parse.urlsplit(database_url)
    return urllib.parse.urlunsplit(parts._replace(path="/postgres")), parts.path.lstrip("/")


def recreate_database(database_url: str, *, drop_only: bool = False) -> None:
    import psycopg2

    admin, name = _admin_dsn(database_url)
    if not re.fullmatch(r"[a-z0-9_]+", name):
        raise SmokeFailure(f"refusing to touch database {name!r}")
    conn = psycopg2.connect(admin, connect_timeout=5)
    conn.autocommit = True
    with conn.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if not drop_only:
            cursor.execute(f'CREATE DATABASE "{name}"')
    conn.close()


def flush_redis(redis_url: str) -> None:
    import redis

    redis.Redis.from_url(redis_url, socket_timeout=5).flushdb()


# --- processes ----------------------------------------------------------------------------------------


@dataclass
class Processes:
    env: dict[str, str]
    workdir: Path
    running: dict[str, subprocess.Popen] = field(default_factory=dict)

    def start(self, script: str) -> None:
        logfile = open(self.workdir / f"{script}.log", "ab")  # noqa: SIM115 - closed with the process group
        self.running[script] = subprocess.Popen(
            [str(ROOT / "scripts" / script)],
            cwd=ROOT,
            env=self.env,
            stdout=logfile,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: we stop gunicorn's and Celery's children too
        )
        log(f"started scripts/{script} (pid {self.running[script].pid})")

    def check_alive(self) -> None:
        for name, proc in self.running.items():
            if proc.poll() is not None:
                raise SmokeFailure(f"scripts/{name} exited with {proc.returncode}")

    def stop_all(self) -> None:
        for name, proc in reversed(list(self.running.items())):
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + 20
        for name, proc in self.running.items():
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                log(f"scripts/{name} ignored SIGTERM: killing its process group")
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)
        self.running.clear()

    def dump_logs(self, lines: int = 40) -> None:
        for script in SCRIPTS:
            path = self.workdir / f"{script}.log"
            if path.exists():
                tail = path.read_text(errors="replace").splitlines()[-lines:]
                print(f"----- last {len(tail)} lines of scripts/{script} -----", file=sys.stderr)
                print("\n".join(tail), file=sys.stderr)


def manage(env: dict[str, str], *args: str, timeout: float = 600) -> str:
    result = subprocess.run(
        [PYTHON, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )
    if result.returncode != 0:
        raise SmokeFailure(f"manage.py {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


# --- a small HTTP client: cookies by hand (the session cookie is Secure and TLS ends at the "proxy") ------


@dataclass
class Response:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    def json(self):
        return json.loads(self.body)


class Browser:
    """Talks to gunicorn on loopback as the TLS-terminating reverse proxy would forward a browser."""

    def __init__(self, port: int):
        self.port = port
        self.origin = f"https://127.0.0.1:{port}"
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, data: dict | None = None, headers: dict | None = None) -> Response:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        body = urllib.parse.urlencode(data, doseq=True).encode() if data is not None else None
        sent = {
            "Host": f"127.0.0.1:{self.port}",
            "X-Forwarded-Proto": "https",
            "User-Agent": "ptdv-smoke",
            "Accept-Language": "vi",
        }
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if body is not None:
            sent["Content-Type"] = "application/x-www-form-urlencoded"
            sent["Origin"] = self.origin
            sent["Referer"] = self.origin + path
            token = self.cookies.get("__Host-csrftoken")
            if token:
                sent["X-CSRFToken"] = token
        sent.update(headers or {})
        try:
            conn.request(method, path, body=body, headers=sent)
            raw = conn.getresponse()
            response = Response(raw.status, raw.headers, raw.read())
        finally:
            conn.close()
        for header in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = header.partition("=")
            value = rest.split(";", 1)[0]
            if value in ('""', "") or "Max-Age=0" in header:
                self.cookies.pop(name.strip(), None)
            else:
                self.cookies[name.strip()] = value
        return response

    def get(self, path: str, expect: int | None = 200) -> Response:
        response = self.request("GET", path)
        if expect is not None and response.status != expect:
            raise SmokeFailure(f"GET {path}: expected {expect}, got {response.status}: {response.text[:300]}")
        return response

    def post(self, path: str, data: dict, expect: int | None = 302) -> Response:
        response = self.request("POST", path, data=data)
        if expect is not None and response.status != expect:
            raise SmokeFailure(f"POST {path}: expected {expect}, got {response.status}: {response.text[:500]}")
        return response

    def form_token(self, path: str) -> str:
        page = self.get(path)
        match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
        if not match:
            raise SmokeFailure(f"no CSRF token in the form at {path}")
        return match.group(1)

    def login(self, username: str, password: str = DEMO_PASSWORD) -> None:
        token = self.form_token("/dang-nhap/")
        response = self.post("/dang-nhap/", {"csrfmiddlewaretoken": token, "username": username, "password": password})
        if response.headers.get("Location", "") != "/":
            raise SmokeFailure(f"login as {username} redirected to {response.headers.get('Location')!r}")
        if "__Host-sessionid" not in self.cookies:
            raise SmokeFailure("no session cookie after login")


# --- the story ----------------------------------------------------------------------------------------


@dataclass
class Smoke:
    env: dict[str, str]
    port: int
    procs: Processes
    results: list[tuple[str, str]] = field(default_factory=list)

    def health(self) -> dict:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            conn.request("GET", "/healthz", headers={"Host": "127.0.0.1"})
            raw = conn.getresponse()
            return {"http_status": raw.status, **json.loads(raw.read())}
        finally:
            conn.close()

    def step(self, name: str, action: Callable[[], str | None]) -> None:
        self.procs.check_alive()
        started = time.monotonic()
        log(f"STEP {name}")
        detail = action() or ""
        self.results.append((name, f"ok in {time.monotonic() - started:.1f}s {detail}".rstrip()))
        log(f"  ok {detail}")

    def run(self) -> None:
        self.step("start web (migrate, collectstatic, gunicorn)", self.start_web)
        self.step("load the demo province (loaddemo)", self.load_demo)
        self.step("start workers and beat", self.start_workers)
        self.step("healthz reports database, Redis and both queues' workers", self.healthz_ok)
        browser = Browser(self.port)
        self.step("sign in over HTTP as the city's organisation board", lambda: self.sign_in(browser))
        self.step("pages answer with security headers and no-store", lambda: self.pages(browser))
        self.step("static files are served by whitenoise", lambda: self.static_files(browser))
        self.step("the audit log shows the sign-in", lambda: self.audit_log(browser))
        self.step("sign out", lambda: self.sign_out(browser))

    def start_web(self) -> str:
        self.procs.start("web")
        wait_for("gunicorn to answer /healthz", lambda: self.procs.check_alive() or self.health(), timeout=300)
        return f"on 127.0.0.1:{self.port}"

    def load_demo(self) -> str:
        out = manage(self.env, "loaddemo")
        return out.strip().splitlines()[0][:80] if out.strip() else ""

    def start_workers(self) -> str:
        for script in ("worker", "worker-documents", "beat"):
            self.procs.start(script)
        return ""

    def healthz_ok(self) -> str:
        body = wait_for("healthz to report status ok", lambda: (h := self.health())["http_status"] == 200 and h)
        ages = {queue: state["age_seconds"] for queue, state in body["workers"].items()}
        return f"checks={body['checks']} heartbeat ages={ages}"

    def sign_in(self, browser: Browser) -> str:
        browser.login("btc.uongbi")
        home = browser.get("/")
        if "Nguyễn Thị Thu Hà" not in home.text:
            raise SmokeFailure("the home page does not greet the signed-in board")
        return ""

    def pages(self, browser: Browser) -> str:
        checked = []
        for path in ("/", "/to-chuc/", "/nhat-ky/"):
            response = browser.get(path)
            headers = response.headers
            csp = headers.get("Content-Security-Policy", "")
            problems = []
            if "script-src 'self'" not in csp or "unsafe-inline" in csp.split("script-src", 1)[1].split(";")[0]:
                problems.append(f"CSP {csp!r}")
            if headers.get("Cache-Control") != "no-store":
                problems.append(f"Cache-Control {headers.get('Cache-Control')!r}")
            if "max-age=31536000" not in headers.get("Strict-Transport-Security", ""):
                problems.append("no HSTS")
            if headers.get("X-Frame-Options") != "DENY":
                problems.append("X-Frame-Options")
            if problems:
                raise SmokeFailure(f"{path}: {', '.join(problems)}")
            checked.append(path)
        insecure = browser.request("GET", "/", headers={"X-Forwarded-Proto": "http"})
        if insecure.status != 301 or not insecure.headers.get("Location", "").startswith("https://"):
            raise SmokeFailure(f"plain http was not redirected to https: {insecure.status}")
        return " ".join(checked)

    def static_files(self, browser: Browser) -> str:
        home = browser.get("/")
        urls = re.findall(r'(?:href|src)="(/static/[^"]+)"', home.text)
        if not urls:
            raise SmokeFailure("the page references no static files")
        for url in urls:
            response = browser.get(url)
            if response.headers.get("Cache-Control") == "no-store" or not response.body:
                raise SmokeFailure(f"{url}: not served as a cacheable static file")
        hashed = all(re.search(r"\.[0-9a-f]{12}\.", url) for url in urls)
        if not hashed:
            raise SmokeFailure(f"static URLs are not the manifest's hashed names: {urls}")
        return f"{len(urls)} files with hashed names"

    def audit_log(self, browser: Browser) -> str:
        page = browser.get("/nhat-ky/?action=login")
        if "btc.uongbi" not in page.text:
            raise SmokeFailure("the sign-in is not in the audit log")
        return ""

    def sign_out(self, browser: Browser) -> str:
        token = browser.form_token("/")
        browser.post("/dang-xuat/", {"csrfmiddlewaretoken": token})
        response = browser.get("/", expect=302)
        if not response.headers.get("Location", "").startswith("/dang-nhap/"):
            raise SmokeFailure("still signed in after signing out")
        return ""


def main() -> int:
    port = free_port()
    workdir = Path(tempfile.mkdtemp(prefix="ptdv-smoke-"))
    env = smoke_environment(workdir, port)
    procs = Processes(env, workdir)
    smoke = Smoke(env, port, procs)
    ok = False

    def on_signal(signum, frame):
        raise SmokeFailure(f"interrupted by signal {signum}")

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        log(f"database {urllib.parse.urlsplit(env['DATABASE_URL']).path[1:]}, redis {env['REDIS_URL']}, logs in {workdir}")
        recreate_database(env["DATABASE_URL"])
        flush_redis(env["REDIS_URL"])
        smoke.run()
        ok = True
    except SmokeFailure as exc:
        log(f"FAILED: {exc}")
    finally:
        procs.stop_all()
        if not ok:
            procs.dump_logs()
        with contextlib.suppress(Exception):
            recreate_database(env["DATABASE_URL"], drop_only=True)
        with contextlib.suppress(Exception):
            flush_redis(env["REDIS_URL"])
        if ok:
            shutil.rmtree(workdir, ignore_errors=True)
    print()
    for name, outcome in smoke.results:
        print(f"  ✔ {name}: {outcome}")
    print(f"\nmake smoke: {'PASSED' if ok else 'FAILED'} ({len(smoke.results)} steps passed)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
