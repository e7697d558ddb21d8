"""The measurements of `make bench`, run inside Django against the database named by DATABASE_URL.

    DJANGO_SETTINGS_MODULE=bench.settings python -m bench.measure --suite full --out part.json

Pages go through Django's test Client (server time: URL resolution, middleware, view, template), timed
without query capture; a separate pass counts the queries with CaptureQueriesContext. Services are called
directly. A case whose feature does not exist yet is reported as "missing", never as a number.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import os
import random
import signal
import statistics
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY  # noqa: E402
from django.contrib.sessions.backends.db import SessionStore  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.urls import NoReverseMatch, reverse  # noqa: E402

from accounts.models import Role, User  # noqa: E402
from core.synthetic import DEFAULT_AS_OF, ROOT_CODE, PeopleMaker, Plan, leaves_from_db  # noqa: E402
from orgs.models import OrgUnit  # noqa: E402
from recruitment.models import Candidate, Stage  # noqa: E402

YEAR = DEFAULT_AS_OF.year
USERS = {  # username -> (role, how to find the node)
    "g.bench.tinh": (Role.BOARD, "root"),
    "g.bench.huyen": (Role.BOARD, "mid"),
    "g.bench.coso": (Role.STAFF, "base"),
    "g.bench.chibo": (Role.STAFF, "branch"),
}


class _Rollback(Exception):
    pass


@dataclass
class Case:
    name: str
    group: str
    samples_ms: list[float] = field(default_factory=list)
    cpu_ms: list[float] = field(default_factory=list)  # this process's CPU time: less sensitive to a busy machine
    queries: int | None = None
    status: str = "ok"  # ok | missing | error
    note: str = ""
    extra: dict = field(default_factory=dict)

    def summary(self) -> dict:
        out = asdict(self)
        out.pop("samples_ms")
        cpu = out.pop("cpu_ms")
        if cpu:
            out["cpu_median_ms"] = round(statistics.median(cpu), 2)
        if self.samples_ms:
            ordered = sorted(self.samples_ms)
            out.update(
                n=len(ordered),
                median_ms=round(statistics.median(ordered), 2),
                p95_ms=round(ordered[min(len(ordered) - 1, max(0, round(0.95 * len(ordered)) - 1))], 2),
                min_ms=round(ordered[0], 2),
                max_ms=round(ordered[-1], 2),
            )
        return out


# ---------------------------------------------------------------------------------------------- context


def mid_org(root: OrgUnit) -> OrgUnit:
    """The first upper committee (Thành ủy / Huyện ủy): a mid-level dashboard."""
    return OrgUnit.objects.filter(path__startswith=root.path, depth=root.depth + 1).order_by("path").first()


def sample_branch(mid: OrgUnit) -> OrgUnit:
    """A branch of the mid-level committee that has people (the one-branch recompute and the staff user)."""
    pk = (
        Candidate.objects.filter(org__path__startswith=mid.path, decision_date__year=YEAR)
        .order_by("org__path")
        .values_list("org_id", flat=True)
        .first()
    )
    return OrgUnit.objects.get(pk=pk)


def ensure_users(root: OrgUnit) -> dict[str, User]:
    mid = mid_org(root)
    branch = sample_branch(mid)
    base = OrgUnit.objects.filter(path=branch.path[: OrgUnit.steplen * (mid.depth + 1)]).first()
    nodes = {"root": root, "mid": mid, "base": base, "branch": branch}
    users = {}
    for username, (role, where) in USERS.items():
        user, _ = User.objects.get_or_create(username=username)
        user.role, user.org, user.first_name = role, nodes[where], "Người dùng đo hiệu năng"
        user.set_unusable_password()
        user.save()
        users[where] = user
    return users


def session_cookie(user: User) -> str:
    """A logged-in session for the load test, made the way django.contrib.auth.login makes one."""
    store = SessionStore()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store.set_expiry(3600)
    store.create()
    return store.session_key


def url_or_none(name: str, **kwargs) -> str | None:
    try:
        return reverse(name, kwargs=kwargs or None)
    except NoReverseMatch:
        return None


# ---------------------------------------------------------------------------------------------- timing


SLOW_MS = 1000  # a case this slow is measured only a few times: its verdict is clear, the run stays bounded
SLOW_REPEAT = 3


def time_page(case: Case, client: Client, urls: list[str], repeat: int) -> None:
    started = time.perf_counter()
    _get(client, urls[0])  # warm-up (imports, caches, connection)
    if (time.perf_counter() - started) * 1000 < SLOW_MS:
        for url in urls[1:3]:
            _get(client, url)
    with CaptureQueriesContext(connection) as ctx:
        _get(client, urls[0])
    case.queries = len(ctx.captured_queries)
    slow = (time.perf_counter() - started) * 1000 > 2 * SLOW_MS
    counts = set()
    for url in urls[1 : 2 if slow else 4]:  # same page, other objects: a constant count means no N+1
        with CaptureQueriesContext(connection) as other:
            _get(client, url)
        counts.add(len(other.captured_queries))
    if counts - {case.queries}:
        case.extra["query_counts_seen"] = sorted(counts | {case.queries})
    for i in range(SLOW_REPEAT if slow else repeat):
        began, cpu = time.perf_counter(), time.process_time()
        _get(client, urls[i % len(urls)])
        case.samples_ms.append((time.perf_counter() - began) * 1000)
        case.cpu_ms.append((time.process_time() - cpu) * 1000)
    if slow:
        case.extra["reduced_repeats"] = True


def _get(client: Client, url: str):
    response = client.get(url)
    if response.status_code != 200:
        raise RuntimeError(f"GET {url} -> {response.status_code}")
    return response


class _QueryCounter:
    """Counts statements without keeping them (CaptureQueriesContext keeps at most 9,000)."""

    def __init__(self):
        self.n = 0

    def __call__(self, execute, sql, params, many, context):
        self.n += 1
        return execute(sql, params, many, context)


def time_call(case: Case, fn: Callable[[], object], repeat: int, rollback: bool = False) -> object:
    """The first run counts the queries (and warms up); seconds-long jobs (documents, import) are measured
    by that run alone, since capturing SQL text costs microseconds against seconds of work. Returns the
    first run's result."""

    def once():
        if not rollback:
            return fn()
        try:
            with transaction.atomic():
                value = fn()
                raise _Rollback(value)
        except _Rollback as done:
            return done.args[0] if done.args else None

    started, cpu = time.perf_counter(), time.process_time()
    counter = _QueryCounter()
    with connection.execute_wrapper(counter):
        first = once()
    elapsed = (time.perf_counter() - started) * 1000
    case.queries = counter.n
    if elapsed > 5 * SLOW_MS or repeat == 0:
        case.samples_ms.append(elapsed)
        case.cpu_ms.append((time.process_time() - cpu) * 1000)
        case.extra["single_run"] = True
        return first
    for _ in range(repeat):
        began, cpu = time.perf_counter(), time.process_time()
        once()
        case.samples_ms.append((time.perf_counter() - began) * 1000)
        case.cpu_ms.append((time.process_time() - cpu) * 1000)
    return first


class _Timeout(Exception):
    pass


def _alarm(signum, frame):
    raise _Timeout


CASE_TIMEOUT = {"export": 240, "import": 420, "import_small": 240}
DEFAULT_TIMEOUT = 180


def run_case(cases: list[Case], name: str, group: str, body: Callable[[Case], None]) -> Case:
    """Run one case, bounded in time: a case that runs past its limit is interrupted (SIGALRM) and reported
    with its elapsed time as a lower bound."""
    case = Case(name, group)
    started = time.monotonic()
    limit = CASE_TIMEOUT.get(group, DEFAULT_TIMEOUT)
    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(limit)
    try:
        body(case)
    except _Timeout:
        case.status = "timeout"
        case.note = f"dừng sau {limit} s, chưa xong (con số là cận dưới)"
        case.samples_ms = case.samples_ms or [(time.monotonic() - started) * 1000]
    except _Missing as exc:
        case.status, case.note = "missing", str(exc)
    except Exception as exc:  # noqa: BLE001 - a broken feature is a finding, not a crash of the whole benchmark
        case.status, case.note = "error", f"{type(exc).__name__}: {exc}"[:400]
        traceback.print_exc(file=sys.stderr)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    cases.append(case)
    summary = case.summary()
    figure = f"median {summary['median_ms']:.1f} ms, p95 {summary['p95_ms']:.1f} ms" if case.samples_ms else case.note
    print(f"  {name:<28} {figure}  [{time.monotonic() - started:.0f} s]", file=sys.stderr, flush=True)
    return case


class _Missing(Exception):
    pass


def need(value, what: str):
    if value is None:
        raise _Missing(f"{what} chưa có")
    return value


def need_import(module: str, name: str):
    try:
        mod = __import__(module, fromlist=[name])
        return getattr(mod, name)
    except (ImportError, AttributeError) as exc:
        raise _Missing(f"{module}.{name} chưa có") from exc


# ---------------------------------------------------------------------------------------------- suites


def pages(cases: list[Case], users: dict[str, User], repeat: int, dashboards_only: bool = False) -> None:
    mid, branch = users["mid"].org, users["branch"].org
    clients = {}
    for where, user in users.items():
        clients[where] = Client()
        clients[where].force_login(user)

    def dashboard(client_key: str, org: OrgUnit | None):
        def body(case: Case):
            url = url_or_none("quotas:dashboard_org", org_id=org.pk) if org else url_or_none("quotas:dashboard")
            time_page(case, clients[client_key], [f"{need(url, 'quotas:dashboard')}?year={YEAR}"], repeat)

        return body

    run_case(cases, "dashboard_province", "dashboard", dashboard("root", None))
    run_case(cases, "dashboard_mid", "dashboard", dashboard("mid", None))
    if dashboards_only:
        return
    run_case(cases, "dashboard_mid_from_province", "dashboard", dashboard("root", mid))

    def candidate_list(client_key: str, queries: list[str]):
        def body(case: Case):
            url = need(url_or_none("recruitment:candidate_list"), "recruitment:candidate_list")
            time_page(case, clients[client_key], [f"{url}?{q}" for q in queries], repeat)

        return body

    run_case(
        cases,
        "list_province_stage",
        "list",
        candidate_list("root", [f"stage={Stage.SYMPATHISER}", f"stage={Stage.DOSSIER}", f"stage={Stage.OUTSTANDING}"]),
    )
    run_case(
        cases,
        "list_province_search",
        "list",
        candidate_list("root", ["q=nguyen+van", "q=tran+thi&gender=nu", "q=le+minh"]),
    )
    run_case(cases, "list_province_unfiltered", "list", candidate_list("root", ["", "page=2", "page=50"]))
    run_case(
        cases,
        "list_mid_filters",
        "list",
        candidate_list(
            "mid",
            [f"stage={Stage.PROBATIONARY}&gender=nu", "occupation_group=cong_nhan", f"org={branch.pk}", "due=overdue"],
        ),
    )
    run_case(cases, "list_branch", "list", candidate_list("branch", ["", f"stage={Stage.SYMPATHISER}"]))

    def board(client_key: str):
        def body(case: Case):
            time_page(case, clients[client_key], [need(url_or_none("recruitment:board"), "recruitment:board")], repeat)

        return body

    run_case(cases, "board_province", "page", board("root"))
    run_case(cases, "board_mid", "page", board("mid"))

    def person_page(case: Case):
        need(url_or_none("recruitment:person_detail", person_id=1), "recruitment:person_detail")
        people = []
        for stage in (Stage.FULL_MEMBER, Stage.PROBATIONARY, Stage.DOSSIER, Stage.SYMPATHISER, Stage.BRANCH_RESOLUTION):
            people += list(
                Candidate.objects.filter(org__path__startswith=mid.path, stage=stage)
                .order_by("person__code")
                .values_list("person_id", flat=True)[:4]
            )
        urls = [reverse("recruitment:person_detail", kwargs={"person_id": pk}) for pk in people]
        time_page(case, clients["mid"], urls, repeat)

    run_case(cases, "person_page", "page", person_page)

    def api(case: Case):
        url = need(url_or_none("api:attainment"), "api:attainment")
        time_page(case, clients["mid"], [f"{url}?year={YEAR}&org={mid.code}"], repeat)

    run_case(cases, "api_attainment_mid", "page", api)


def recompute(cases: list[Case], users: dict[str, User], repeat: int) -> None:
    root, branch = users["root"].org, users["branch"].org
    from django.db.models import Q

    def whole(case: Case):
        fn = need_import("quotas.services", "attainment_recompute")
        case.extra["rows"] = time_call(case, lambda: fn(year=YEAR), max(5, repeat // 4))

    run_case(cases, "recompute_whole", "recompute", whole)

    def whole_cold(case: Case):
        fn = need_import("quotas.services", "attainment_recompute")
        from quotas.models import Attainment

        def cold():
            Attainment.objects.filter(year=YEAR).delete()
            return fn(year=YEAR)

        case.extra["rows"] = time_call(case, cold, max(3, repeat // 6), rollback=True)

    # From an empty table for the year: every row written (the repeated run above may find nothing changed).
    run_case(cases, "recompute_whole_cold", "recompute", whole_cold)

    def one_branch(case: Case):
        fn = need_import("quotas.services", "attainment_recompute")
        ids = branch.lineage_ids()
        time_call(case, lambda: fn(year=YEAR, org_ids=ids), repeat)
        case.extra["nodes"] = len(ids)

    run_case(cases, "recompute_one_branch", "recompute", one_branch)

    def scheduled(case: Case):
        schedule = need_import("quotas.services", "attainment_schedule_recompute")
        process = need_import("quotas.services", "attainment_process_pending_now")

        def fn():
            schedule(lineage=branch.lineage, year=YEAR)
            process()

        time_call(case, fn, repeat)

    run_case(cases, "recompute_branch_scheduled", "recompute", scheduled)

    # The floor: one statement over the same rows, admissions, recognitions and sources per node of the
    # subtree (each row counted for every ID of its lineage snapshot), with no breakdowns.
    start, end = dt.date(YEAR, 1, 1), dt.date(YEAR, 12, 31)
    table = Candidate._meta.db_table
    sql = f"""
        SELECT node, sum(a), sum(r), sum(s) FROM (
            SELECT unnest(string_to_array(trim(both '/' from admitted_lineage), '/')) AS node, 1 AS a, 0 AS r, 0 AS s
              FROM {table} WHERE decision_date BETWEEN %(start)s AND %(end)s
            UNION ALL
            SELECT unnest(string_to_array(trim(both '/' from recognized_lineage), '/')), 0, 1, 0
              FROM {table} WHERE recognition_date BETWEEN %(start)s AND %(end)s
            UNION ALL
            SELECT unnest(string_to_array(trim(both '/' from sympathiser_lineage), '/')), 0, 0, 1
              FROM {table} WHERE sympathiser_date BETWEEN %(start)s AND %(end)s
        ) t GROUP BY node"""  # noqa: S608 - the table name comes from the model

    def floor(case: Case):
        def fn():
            with connection.cursor() as cursor:
                cursor.execute(sql, {"start": start, "end": end})
                return cursor.fetchall()

        time_call(case, fn, max(5, repeat // 3))
        rows = fn()
        case.extra["nodes_with_figures"] = len(rows)
        mine = {int(r[0]): r[1] for r in rows}
        case.extra["root_admitted"] = mine.get(root.pk, 0)
        admitted = Candidate.objects.filter(Q(decision_date__range=(start, end)), org__path__startswith=root.path)
        case.extra["root_admitted_orm"] = admitted.count()

    run_case(cases, "raw_group_by_floor", "recompute", floor)


def exports(cases: list[Case], users: dict[str, User], repeat: int) -> None:
    root = users["root"].org
    for fmt in ("xlsx", "docx", "pdf"):

        def body(case: Case, fmt=fmt):
            fn = need_import("reports.services", "report_generate")
            data = time_call(case, lambda: fn(org=root, year=YEAR, kind="results", fmt=fmt), max(3, repeat // 10))
            case.extra["bytes"] = len(data)

        run_case(cases, f"export_results_{fmt}", "export", body)


def import_workbook(cases: list[Case], users: dict[str, User], rows: int) -> None:
    """A 1,000-row workbook first (the rate per row, even if the full one runs past its limit), then the full one."""
    root = users["root"].org

    def measure_import(case: Case, n: int):
        importer = need_import("reports.importer", "import_workbook")
        hoso = need_import("reports.workbook", "HOSO")
        data = build_workbook(root, hoso, n)
        case.extra["rows"] = n
        case.extra["bytes"] = len(data)
        outcome = {}

        def fn():
            result = importer(data=data, actor=None)
            outcome["errors"] = len(result.errors)
            outcome["first_errors"] = [
                f"{e.sheet} dòng {e.row} {e.rule_id}: {' '.join(str(e.message).split())[:160]}"
                for e in result.errors[:3]
            ]

        time_call(case, fn, repeat=0, rollback=True)  # rolled back: the bench database stays as generated
        case.extra.update(outcome)
        case.extra["ms_per_row"] = round(case.samples_ms[0] / n, 2)
        if outcome["errors"]:
            case.status, case.note = "error", f"{outcome['errors']} dòng bị từ chối, ví dụ {outcome['first_errors'][0]}"

    run_case(cases, "import_1k_rows", "import_small", lambda case: measure_import(case, 1_000))
    run_case(cases, f"import_{rows // 1000}k_rows", "import", lambda case: measure_import(case, rows))


def build_workbook(root: OrgUnit, hoso, rows: int) -> bytes:
    """New people for the generated branches, made by the generator's own rules (codes G.IM.*)."""
    from openpyxl import Workbook

    rng = random.Random(4242)
    leaves = leaves_from_db(root)
    maker = PeopleMaker(Plan(members=1, seed=4242), rng, leaves, code_prefix="G.IM.", cccd_prefix="098")
    admitted = rows // 5
    for _ in range(admitted):
        maker.admitted(rng.choice(leaves), DEFAULT_AS_OF - dt.timedelta(days=rng.randint(60, 300)))
    stages = [Stage.OUTSTANDING, Stage.SYMPATHISER, Stage.COURSE_DONE, Stage.DOSSIER, Stage.BRANCH_RESOLUTION]
    for i in range(rows - admitted):
        maker.in_pipeline(rng.choice(leaves), stages[i % len(stages)])
    code_of = {leaf.pk: leaf.code for leaf in leaves} | {leaf.upper.pk: leaf.upper.code for leaf in leaves}
    wb = Workbook()
    ws = wb.active
    ws.title = hoso.name
    ws.append([c.header for c in hoso.columns])
    for person, c in zip(maker.people, maker.candidates, strict=True):
        values = {
            "code": person.code,
            "full_name": person.full_name,
            "birth_date": person.birth_date,
            "gender": person.get_gender_display(),
            "ethnicity": person.ethnicity,
            "religion": person.religion,
            "cccd": person.cccd,
            # The sheet has no column for the disadvantaged-area exception (R-EDU): such people come in with THCS.
            "education": "thcs" if person.disadvantaged_area_exception else person.education,
            "is_youth_union_member": "x" if person.is_youth_union_member else "",
            "occupation_group": person.occupation_group,
            "branch_code": code_of[c.org_id],
            "nominating_org": person.nominating_org,
            "deciding_org_code": code_of.get(c.deciding_org_id, ""),
        }
        for col in hoso.columns:
            if col.key not in values and hasattr(c, col.key):
                values[col.key] = getattr(c, col.key)
        ws.append([_cell(values.get(col.key)) for col in hoso.columns])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _cell(value):
    if value is None:
        return None
    if isinstance(value, dt.date):
        return value.strftime("%d/%m/%Y")
    return value


# ---------------------------------------------------------------------------------------------- main


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--suite", choices=["full", "small"], default="full")
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--import-rows", type=int, default=20_000)
    parser.add_argument("--only", default="", help="comma-separated groups: pages,recompute,exports,import")
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    root = OrgUnit.objects.get(code=ROOT_CODE)
    users = ensure_users(root)
    cases: list[Case] = []
    only = set(filter(None, args.only.split(",")))
    started = time.monotonic()
    # The materialised attainment must exist before the dashboards read it.
    try:
        from quotas.services import attainment_recompute

        attainment_recompute(year=YEAR)
    except ImportError:
        pass
    try:  # what the nightly run leaves: the dashboard's pipeline counts of today
        from quotas.services import pipeline_figures_recompute

        pipeline_figures_recompute(today=dt.date.today())
    except ImportError:
        pass
    if args.suite == "small":
        pages(cases, users, args.repeat, dashboards_only=True)
    else:
        if not only or "recompute" in only:
            recompute(cases, users, args.repeat)
        if not only or "pages" in only:
            pages(cases, users, args.repeat)
        if not only or "exports" in only:
            exports(cases, users, args.repeat)
        if not only or "import" in only:
            import_workbook(cases, users, args.import_rows)
    out = {
        "suite": args.suite,
        "database": settings.DATABASES["default"]["NAME"],
        "year": YEAR,
        "seconds": round(time.monotonic() - started, 1),
        "loadavg_end": [round(x, 2) for x in os.getloadavg()],
        "nodes": OrgUnit.objects.filter(path__startswith=root.path).count(),
        "candidates": Candidate.objects.filter(org__path__startswith=root.path).count(),
        "cases": [c.summary() for c in cases],
        "load": {
            "sessions": {where: session_cookie(user) for where, user in users.items()},
            "mid_id": users["mid"].org.pk,
            "mid_code": users["mid"].org.code,
            "person_ids": list(
                Candidate.objects.filter(org__path__startswith=users["mid"].org.path)
                .order_by("person__code")
                .values_list("person_id", flat=True)[:200]
            ),
            "branch_id": users["branch"].org.pk,
        },
    }
    with open(args.out, "w", encoding="utf-8") as fh:
        json.dump(out, fh, ensure_ascii=False, indent=1)


if __name__ == "__main__":
    main()
