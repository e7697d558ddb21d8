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
import datetime as dt
import html.parser
import http.client
import importlib.util
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
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))  # to tell which feature apps are installed (importlib.util.find_spec)
PYTHON = str(ROOT / ".venv" / "bin" / "python") if (ROOT / ".venv" / "bin" / "python").exists() else sys.executable
SCRIPTS = ("web", "worker", "worker-documents", "beat")
DEMO_PASSWORD = "PhatTrien@2026"
# (username, text their home page greets them with), from core/demo.py.
STAFF = ("canbo.khu1", "Lê Thị Hồng")
BOARD = ("btc.uongbi", "Nguyễn Thị Thu Hà")
OUTSIDER = ("btc.dongtrieu", "Hoàng Thị Lan")
BRANCH_CODE = "QN.UB.01.01"  # Chi bộ Khu 1, Đảng bộ phường Quang Trung: canbo.khu1's branch
CITY_NAME = "Thành ủy Uông Bí"
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


class FormParser(html.parser.HTMLParser):
    """The fields of every <form> of a page, with the values a browser would submit untouched."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms: list[dict] = []
        self._form: dict | None = None
        self._select: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self._form = {"id": a.get("id", ""), "action": a.get("action", ""), "fields": {}}
            self.forms.append(self._form)
        elif self._form is None:
            return
        elif tag == "input" and a.get("name"):
            if a.get("type") in ("checkbox", "radio") and "checked" not in a:
                return
            self._form["fields"][a["name"]] = a.get("value", "on" if a.get("type") == "checkbox" else "")
        elif tag == "select" and a.get("name"):
            self._select = a["name"]
        elif tag == "option" and self._select:
            fields = self._form["fields"]
            value = a.get("value", "")
            # The selected option, else the first one with a value (a user picks something).
            if "selected" in a or (not fields.get(self._select) and value):
                fields[self._select] = value
        elif tag == "textarea" and a.get("name"):
            self._textarea = a["name"]
            self._form["fields"][a["name"]] = ""

    def handle_data(self, data):
        if self._textarea and self._form is not None:
            self._form["fields"][self._textarea] += data

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None


def page_form(page_html: str, form_id: str) -> dict:
    parser = FormParser()
    parser.feed(page_html)
    for form in parser.forms:
        if form["id"] == form_id:
            return form
    raise SmokeFailure(f"no form #{form_id} on the page")


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

    def submit(self, path: str, form_id: str, values: dict, expect: int | None = 302) -> Response:
        """Open the page, fill the form like a user (keeping every other field as the page set it), post."""
        form = page_form(self.get(path).text, form_id)
        return self.post(form["action"] or path, {**form["fields"], **values}, expect=expect)

    def api(self, path: str):
        response = self.request("GET", path, headers={"Accept": "application/json"})
        if response.status != 200:
            raise SmokeFailure(f"GET {path}: {response.status} {response.text[:200]}")
        return response.json()

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
    skipped: list[str] = field(default_factory=list)
    today: dt.date = field(default_factory=lambda: dt.datetime.now(ZoneInfo("Asia/Ho_Chi_Minh")).date())
    person_path: str = ""
    recomputes_before: int = 0
    download_path: str = ""

    def health(self) -> dict:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            conn.request("GET", "/healthz", headers={"Host": "127.0.0.1"})
            raw = conn.getresponse()
            return {"http_status": raw.status, **json.loads(raw.read())}
        finally:
            conn.close()

    def feature(self, module: str, label: str) -> bool:
        """Steps of a feature not installed yet are reported as skipped, loudly, never as passed."""
        if importlib.util.find_spec(module) is not None:
            return True
        self.skipped.append(f"{label}: {module} is not installed")
        log(f"SKIPPED {label}: {module} is not installed")
        return False

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
        self.step("the containers' health checks pass", self.container_healthchecks)
        staff, board, outsider = Browser(self.port), Browser(self.port), Browser(self.port)
        self.step("sign in over HTTP as the staff of Chi bộ Khu 1", lambda: self.sign_in(staff, STAFF))
        self.step("pages answer with security headers and no-store", lambda: self.pages(staff))
        self.step("static files are served by whitenoise", lambda: self.static_files(staff))
        before = self.sources(staff)  # attainment before the step, read through the API
        self.step("add an outstanding mass through the form", lambda: self.add_person(staff))
        self.step("record the sympathiser step (a pipeline step)", lambda: self.record_step(staff))
        self.step("the worker updates attainment (sources created)", lambda: self.wait_attainment(staff, before))
        self.step("sign in as the city's organisation board", lambda: self.sign_in(board, BOARD))
        self.step("dashboard and pipeline pages open", lambda: self.board_pages(board))
        self.step("the audit log shows the staff's sign-in and changes", lambda: self.audit_log(board))
        if self.feature("reports.urls", "reports (document downloads)"):
            self.step("request a results report (PDF) and download it", lambda: self.report(board))
            self.step("another city's board gets 404 for that file", lambda: self.foreign_download(outsider))
        self.step("sign out", lambda: self.sign_out(staff))

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

    def container_healthchecks(self) -> str:
        for args in (["web"], ["queue", "celery"], ["queue", "documents"]):
            result = subprocess.run(
                [PYTHON, "scripts/healthcheck.py", *args], cwd=ROOT, env=self.env, capture_output=True, text=True,
                timeout=60,
            )
            if result.returncode != 0:
                raise SmokeFailure(f"scripts/healthcheck.py {' '.join(args)}: {result.stderr.strip()[-300:]}")
        return "web, queue celery, queue documents"

    def sign_in(self, browser: Browser, who: tuple[str, str]) -> str:
        username, greeting = who
        browser.login(username)
        if greeting not in browser.get("/").text:
            raise SmokeFailure(f"the home page does not greet {username}")
        return username

    def pages(self, browser: Browser) -> str:
        checked = []
        for path in ("/", "/to-chuc/", "/ho-so/"):
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

    def sources(self, browser: Browser) -> int:
        rows = browser.api(f"/api/v1/attainment/?year={self.today.year}&org={BRANCH_CODE}")
        row = next((r for r in rows if r["org"] == BRANCH_CODE), None)
        if row is None:
            raise SmokeFailure(f"the attainment API has no row for {BRANCH_CODE}: {rows!r}"[:300])
        return int(row["sources"])

    def add_person(self, browser: Browser) -> str:
        cccd = f"0220{secrets.randbelow(10**8):08d}"
        response = browser.submit("/ho-so/them/", "candidate-form", {
            "full_name": "Nguyễn Thị Khói Thử",
            "birth_date": "12/03/1999",
            "cccd": cccd,
            "source_date": (self.today - dt.timedelta(days=40)).strftime("%d/%m/%Y"),
        })
        match = re.fullmatch(r"/ho-so/(\d+)/", response.headers.get("Location", ""))
        if not match:
            raise SmokeFailure(f"adding a person redirected to {response.headers.get('Location')!r}")
        self.person_path = match.group(0)
        return self.person_path

    def recomputes_done(self) -> int:
        worker_log = (self.procs.workdir / "worker.log").read_text(errors="replace")
        return len(re.findall(r"Task quotas\.attainment_process_pending\[[^\]]+\] succeeded", worker_log))

    def record_step(self, browser: Browser) -> str:
        self.recomputes_before = self.recomputes_done()  # the demo's own recomputes ran before this
        form = page_form(browser.get(self.person_path).text, "step-form")
        if form["fields"].get("step-to_stage") != "cam_tinh":
            raise SmokeFailure(f"next step is {form['fields'].get('step-to_stage')!r}, not the sympathiser step")
        browser.post(form["action"], {
            **form["fields"],
            "step-sympathiser_date": self.today.strftime("%d/%m/%Y"),
            "step-helping_member": "Lê Văn Giúp",
        })
        page = browser.get(self.person_path).text
        if "Đã ghi nhận" not in page:
            raise SmokeFailure("the person page does not confirm the step")
        return f"{self.person_path} -> cam_tinh"

    def wait_attainment(self, browser: Browser, before: int) -> str:
        after = wait_for(
            "the attainment API to count the new sympathiser",
            lambda: (n := self.sources(browser)) > before and n,
            interval=1.0,
        )
        if after != before + 1:
            raise SmokeFailure(f"sources went from {before} to {after}, expected +1")
        wait_for("the worker's log to show the recompute", lambda: self.recomputes_done() > self.recomputes_before)
        return f"sources of {BRANCH_CODE} in {self.today.year}: {before} -> {after}, recomputed by scripts/worker"

    def board_pages(self, browser: Browser) -> str:
        opened = []
        paths = ["/chi-tieu/", "/chi-tieu/phan-bo/", "/ho-so/", "/ho-so/bang-tien-trinh/"]
        if importlib.util.find_spec("reports.urls") is not None:
            paths.append("/bao-cao/")
        for path in paths:
            browser.get(path)
            opened.append(path)
        return " ".join(opened)

    def audit_log(self, browser: Browser) -> str:
        page = browser.get(f"/nhat-ky/?date_from={self.today:%d/%m/%Y}").text
        expected = (STAFF[0], "<code>login</code>", "<code>candidate.create</code>", "<code>candidate.advance</code>")
        missing = [text for text in expected if text not in page]
        if missing:
            raise SmokeFailure(f"the audit log lacks {missing}")
        entries = len(re.findall(r"<tr>", page)) - 1
        return f"{entries} entries on the first page"

    def report(self, browser: Browser) -> str:
        page = browser.get("/bao-cao/").text
        form = page_form(page, "document-form") if 'id="document-form"' in page else self._first_post_form(page)
        org_value = self._option_for(page, "org", CITY_NAME)
        known = set(re.findall(r"/bao-cao/van-ban/(\d+)/tai-ve/", page))
        browser.post(form["action"] or "/bao-cao/", {
            **form["fields"], "org": org_value, "year": str(self.today.year), "kind": "results", "format": "pdf",
        })

        def ready():
            ids = set(re.findall(r"/bao-cao/van-ban/(\d+)/tai-ve/", browser.get("/bao-cao/").text)) - known
            return sorted(ids, key=int)[-1] if ids else None

        job_id = wait_for("the documents worker to render the report", ready, timeout=180, interval=2.0)
        self.download_path = f"/bao-cao/van-ban/{job_id}/tai-ve/"
        response = browser.get(self.download_path)
        problems = []
        if not response.body.startswith(b"%PDF"):
            problems.append("not a PDF")
        if "attachment" not in response.headers.get("Content-Disposition", ""):
            problems.append("not an attachment")
        if response.headers.get("Cache-Control") != "no-store":
            problems.append(f"Cache-Control {response.headers.get('Cache-Control')!r}")
        if problems:
            raise SmokeFailure(f"{self.download_path}: {', '.join(problems)}")
        return f"{self.download_path} ({len(response.body):,} bytes)"

    def foreign_download(self, browser: Browser) -> str:
        self.sign_in(browser, OUTSIDER)
        response = browser.get(self.download_path, expect=None)
        if response.status != 404:
            raise SmokeFailure(f"{OUTSIDER[0]} got {response.status} for {self.download_path}")
        return f"{OUTSIDER[0]}: 404"

    @staticmethod
    def _first_post_form(page: str) -> dict:
        parser = FormParser()
        parser.feed(page)
        forms = [f for f in parser.forms if "csrfmiddlewaretoken" in f["fields"] and f["action"] != "/dang-xuat/"]
        if not forms:
            raise SmokeFailure("no form on the documents page")
        return forms[0]

    @staticmethod
    def _option_for(page: str, select: str, label: str) -> str:
        block = re.search(rf'<select name="{select}".*?</select>', page, re.S)
        match = block and re.search(rf'<option value="(\d+)"[^>]*>[—\s]*{re.escape(label)}</option>', block.group(0))
        if not match:
            raise SmokeFailure(f"no option {label!r} in <select name={select}>")
        return match.group(1)

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
    except Exception:  # noqa: BLE001 - a bug in the runner still stops every process and fails loudly
        import traceback

        log(f"FAILED with an error in the smoke runner:\n{traceback.format_exc()}")
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
    for skipped in smoke.skipped:
        print(f"  ✘ SKIPPED {skipped}")
    print(f"\nmake smoke: {'PASSED' if ok else 'FAILED'} ({len(smoke.results)} steps passed, {len(smoke.skipped)} skipped)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
