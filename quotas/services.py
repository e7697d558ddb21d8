"""Writes of the quotas app: quotas (with optimistic locking) and the materialised attainment.

Attainment is counted over the lineage snapshots that the pipeline copies onto each candidate
(`admitted_lineage`, `recognized_lineage`, `sympathiser_lineage`, "/1/5/9/"): an event counts for EVERY id
in its snapshot, so a later move or merge never changes a past year's figures.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
import logging
import operator
import zlib
from collections import defaultdict
from collections.abc import Iterable

from django.db import IntegrityError, connection, transaction
from django.db.models import Case, Count, F, IntegerField, Q, Value, When
from django.db.models.functions import ExtractDay, ExtractMonth, ExtractYear
from django.utils import timezone

from core.audit import audit
from members.models import KINH, NO_RELIGION
from orgs.models import OrgUnit, OrgYearStat
from quotas.models import Attainment, AttainmentPending, MassOrgQuota, PipelineFigures, Quota, QuotaRevision
from quotas.pipeline import (
    FLAG_CODES,
    FLAGS_KEY,
    complete,
    figure_aggregates,
    merge_flags,
    own_flags_of,
)

log = logging.getLogger(__name__)

AGE_BANDS = ["18-30", "31-35", "36-40", "41-45", "46-50", "51-55", "56-60", "tren_60"]
AGE_BAND_LABELS = {
    "duoi_18": "Dưới 18",
    "18-30": "18–30",
    "31-35": "31–35",
    "36-40": "36–40",
    "41-45": "41–45",
    "46-50": "46–50",
    "51-55": "51–55",
    "56-60": "56–60",
    "tren_60": "Trên 60",
}
# Dimensions of Attainment.by_group: dict-valued ones count per value, the others count people with the flag.
COUNTED_DIMENSIONS = ["sector", "gender", "age_band", "education", "occupation_group"]
FLAG_DIMENSIONS = ["youth_union", "ethnic_minority", "religion"]
_STORED = (
    "members_start",
    "quota",
    "allocated_to_children",
    "admitted",
    "recognized",
    "sources",
    "by_group",
)  # the columns a recompute writes
# Above this many target nodes a recompute scans the whole year instead of OR-ing LIKE filters.
_LIKE_LIMIT = 24


class QuotaVersionConflict(Exception):
    """Somebody else revised the quota after the form was opened: nothing was written."""

    def __init__(self, message: str, quota: Quota | None = None):
        super().__init__(message)
        self.message = message
        self.quota = quota


# --------------------------------------------------------------------------------------------------------
# Lineage helpers


def lineage_ids(lineage: str) -> list[int]:
    return list(_lineage_tuple(lineage or ""))


@functools.lru_cache(maxsize=65536)
def _lineage_tuple(lineage: str) -> tuple[int, ...]:
    """A recompute parses the same ~10,000 lineage strings for each count: parse each once per process."""
    return tuple(int(part) for part in lineage.strip("/").split("/") if part.isdigit())


def is_ethnic_minority(ethnicity: str | None) -> bool:
    return bool(ethnicity and ethnicity.strip()) and ethnicity.strip().lower() != KINH.lower()


def has_religion(religion: str | None) -> bool:
    value = (religion or "").strip().lower()
    return value not in ("", NO_RELIGION.lower(), "khong")


def age_band(age: int) -> str:
    if age < 18:
        return "duoi_18"
    if age <= 30:
        return "18-30"
    if age > 60:
        return "tren_60"
    low = 31 + ((age - 31) // 5) * 5
    return f"{low}-{low + 4}"


def age_on(birth: dt.date, day: dt.date) -> int:
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


# --------------------------------------------------------------------------------------------------------
# Scheduling: called by the pipeline services on commit after every change


def attainment_schedule_recompute(*, lineage: str, year: int) -> None:
    """Queue a recompute of every node in `lineage` for `year`, coalesced.

    Runs after the caller's transaction commits. One row per (node, year) goes into AttainmentPending;
    the worker task is enqueued only when at least one row is new, so a burst of changes in one branch
    costs one recompute of its few ancestors, not one per change."""
    ids = lineage_ids(lineage)
    if not ids or not year:
        return
    if not transaction.get_connection().in_atomic_block:
        _mark_pending(ids, int(year))
        return
    # One callback per transaction: an import of 800 rows must queue one recompute, not 800 (with eager
    # Celery each callback would recompute on the spot). The batch lives as long as its callback is still
    # registered; after a rollback the callback is gone and a fresh batch starts.
    batch = _transaction_batch()
    batch.setdefault(int(year), set()).update(ids)


def pipeline_changed(*lineages: str) -> None:
    """Candidates were added, moved or changed stage or due date under these lineages: queue this year's
    recompute of their nodes, which also refreshes the dashboard's pipeline counts (PipelineFigures)."""
    for lineage in lineages:
        attainment_schedule_recompute(lineage=lineage, year=dt.date.today().year)


def pipeline_changed_everywhere() -> None:
    """Many candidates at once (due dates recomputed after a holiday correction): recount every node after commit."""
    from quotas.tasks import pipeline_figures_refresh

    transaction.on_commit(pipeline_figures_refresh.delay)


_batches: dict[int, tuple[object, dict[int, set[int]]]] = {}
PENDING_LOST_AFTER = dt.timedelta(minutes=2)  # a run takes well under a second; a queue may be busy for a while


def _transaction_batch() -> dict[int, set[int]]:
    conn = transaction.get_connection()  # the thread's own connection, not the shared proxy
    key = id(conn)
    entry = _batches.get(key)
    if entry is not None and any(callback is entry[0] for _, callback, _ in conn.run_on_commit):
        return entry[1]
    batch: dict[int, set[int]] = {}

    def flush() -> None:
        _batches.pop(key, None)
        _mark_pending_many(batch)

    _batches[key] = (flush, batch)
    transaction.on_commit(flush)
    return batch


def _mark_pending(org_ids: Iterable[int], year: int) -> None:
    _mark_pending_many({year: set(org_ids)})


def _mark_pending_many(batch: dict[int, set[int]]) -> None:
    table = AttainmentPending._meta.db_table
    pairs = sorted((org_id, year) for year, ids in batch.items() for org_id in ids)
    if not pairs:
        return
    placeholders = ", ".join(["(%s, %s, %s)"] * len(pairs))
    params: list = []
    now = timezone.now()
    for org_id, year in pairs:
        params += [org_id, year, now]
    # ON CONFLICT … RETURNING works on PostgreSQL and SQLite ≥ 3.35: only rows that were not already pending
    # come back, and only they justify a new worker run (a pending row already has one queued).
    sql = f"INSERT INTO {table} (org_id, year, queued_at) VALUES {placeholders} ON CONFLICT (org_id, year) DO NOTHING RETURNING org_id"  # noqa: S608, E501 - table name from model meta
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            inserted = cursor.fetchall()
        # A row pending for long is one whose run was lost (a broker restarted, a queue purged): without a new run
        # it would wait for the night and keep every later change of its nodes from asking for one.
        lost = not inserted and AttainmentPending.objects.filter(queued_at__lt=now - PENDING_LOST_AFTER).exists()
        if inserted or lost:
            from quotas.tasks import attainment_process_pending

            transaction.on_commit(attainment_process_pending.delay)


def attainment_claim_pending() -> dict[int, set[int]]:
    """Take every pending (node, year) in one statement, so two workers never recompute the same claim."""
    table = AttainmentPending._meta.db_table
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {table} RETURNING org_id, year")  # noqa: S608 - table from model meta
            rows = cursor.fetchall()
    by_year: dict[int, set[int]] = defaultdict(set)
    for org_id, year in rows:
        by_year[int(year)].add(int(org_id))
    return by_year


def attainment_process_pending_now() -> dict[int, int]:
    """Recompute whatever is pending. Returns {year: nodes written}. Failed claims are put back."""
    claimed = attainment_claim_pending()
    done: dict[int, int] = {}
    today = dt.date.today()
    for year, org_ids in sorted(claimed.items()):
        try:
            done[year] = attainment_recompute(year=year, org_ids=org_ids)
            if year == today.year:  # the pipeline services queue this year's lineage for every stage change
                pipeline_figures_recompute(today=today, org_ids=org_ids)
        except Exception:
            _mark_pending(org_ids, year)
            raise
    return done


# --------------------------------------------------------------------------------------------------------
# The recompute


def _lock_recompute(year: int) -> None:
    """Serialise recomputes of one year: two runs at once would each write a complete but interleaved table."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_advisory_xact_lock(%s, %s)", [zlib.crc32(b"quotas.attainment") & 0x7FFFFFFF, year]
            )
    # SQLite serialises writers by itself: the first write of the transaction takes the database lock.


def _lineage_filter(field: str, org_ids: set[int] | None) -> Q:
    if org_ids is None or len(org_ids) > _LIKE_LIMIT:
        return Q()
    q = Q(pk__in=[])
    for org_id in org_ids:
        q |= Q(**{f"{field}__contains": f"/{org_id}/"})
    return q


def _year_range(year: int) -> tuple[dt.date, dt.date]:
    return dt.date(year, 1, 1), dt.date(year, 12, 31)


def admission_groups(*, year: int, org_ids: set[int] | None = None):
    """One GROUP BY over the year's admission decisions: lineage × person attributes × age band."""
    from recruitment.models import Candidate

    start, end = _year_range(year)
    age = (
        ExtractYear("decision_date")
        - ExtractYear("person__birth_date")
        - Case(
            When(Q(md_decision__lt=F("md_birth")), then=Value(1)),
            default=Value(0),
            output_field=IntegerField(),
        )
    )
    band = Case(
        When(age_years__lt=18, then=Value("duoi_18")),
        When(age_years__lte=30, then=Value("18-30")),
        When(age_years__lte=35, then=Value("31-35")),
        When(age_years__lte=40, then=Value("36-40")),
        When(age_years__lte=45, then=Value("41-45")),
        When(age_years__lte=50, then=Value("46-50")),
        When(age_years__lte=55, then=Value("51-55")),
        When(age_years__lte=60, then=Value("56-60")),
        default=Value("tren_60"),
    )
    return (
        Candidate.objects.filter(decision_date__range=(start, end))
        .exclude(admitted_lineage="")
        .filter(_lineage_filter("admitted_lineage", org_ids))
        .annotate(
            md_decision=ExtractMonth("decision_date") * 100 + ExtractDay("decision_date"),
            md_birth=ExtractMonth("person__birth_date") * 100 + ExtractDay("person__birth_date"),
        )
        .annotate(age_years=age)
        .annotate(band=band)
        .values_list(
            "admitted_lineage",
            "person__gender",
            "band",
            "person__is_youth_union_member",
            "person__ethnicity",
            "person__religion",
            "person__education",
            "person__occupation_group",
        )
        .annotate(n=Count("pk"))
        .order_by()
    )


def _lineage_counts(field: str, date_field: str, *, year: int, org_ids: set[int] | None) -> dict[str, int]:
    from recruitment.models import Candidate

    rows = (
        Candidate.objects.filter(**{f"{date_field}__range": _year_range(year)})
        .exclude(**{field: ""})
        .filter(_lineage_filter(field, org_ids))
        .values_list(field)
        .annotate(n=Count("pk"))
        .order_by()
    )
    return dict(rows)


def compute_attainment(*, year: int, org_ids: set[int] | None = None, events_only: bool = False) -> dict[int, dict]:
    """The figures of the nodes (all, or `org_ids`) for `year`, without writing: {org_id: fields}."""
    step = OrgUnit.steplen
    groups_rows = list(admission_groups(year=year, org_ids=org_ids))
    if events_only:
        # A pipeline change: only the event counts of a few nodes move; no need to read the whole tree.
        targets = set(OrgUnit.objects.filter(pk__in=org_ids).values_list("pk", flat=True))
        branch_ids = {lineage_ids(row[0])[-1] for row in groups_rows if lineage_ids(row[0])}
        sector_of = dict(OrgUnit.objects.filter(pk__in=branch_ids).values_list("pk", "sector"))
        pk_of_path, parent_of = {}, {}
    else:
        orgs = list(OrgUnit.objects.order_by().values_list("pk", "path", "sector"))
        known = {pk for pk, _path, _sector in orgs}
        targets = known if org_ids is None else (set(org_ids) & known)
        sector_of = {pk: sector for pk, _path, sector in orgs}
        pk_of_path = {path: pk for pk, path, _sector in orgs}
        parent_of = {pk: pk_of_path.get(path[:-step]) for pk, path, _sector in orgs if len(path) > step}

    # Admissions: first per lineage (small), then rolled up over each lineage's ids.
    per_lineage: dict[str, dict] = {}
    for lineage, gender, band, youth, ethnicity, religion, education, occupation, n in groups_rows:
        agg = per_lineage.get(lineage)
        if agg is None:
            ids = lineage_ids(lineage)
            agg = per_lineage[lineage] = {
                "ids": ids,
                "admitted": 0,
                "sector": sector_of.get(ids[-1], "khac") if ids else "khac",
                "gender": {},
                "age_band": {},
                "education": {},
                "occupation_group": {},
                "youth_union": 0,
                "ethnic_minority": 0,
                "religion": 0,
            }
        agg["admitted"] += n
        for dim, key in (
            ("gender", gender),
            ("age_band", band),
            ("education", education),
            ("occupation_group", occupation),
        ):
            bucket = agg[dim]
            bucket[key] = bucket.get(key, 0) + n
        if youth:
            agg["youth_union"] += n
        if is_ethnic_minority(ethnicity):
            agg["ethnic_minority"] += n
        if has_religion(religion):
            agg["religion"] += n

    # Rolled up the snapshot prefixes ("/1/5/9/" -> "/1/5/" -> "/1/"), deepest first: each prefix is merged once
    # into its parent, instead of every lineage into each of its ids. A prefix's figures are those of every event
    # whose snapshot starts with it, so a node's are the sum over the prefixes ending in it (one, unless a
    # reorganisation left events under two paths).
    by_prefix: dict[tuple[int, ...], dict] = {}
    for agg in per_lineage.values():
        key = tuple(agg["ids"])
        if key:
            acc = by_prefix.get(key)
            if acc is None:
                acc = by_prefix[key] = _new_rollup()
            _merge_rollup(acc, agg, sector=agg["sector"])
    for length in range(max(map(len, by_prefix), default=0), 1, -1):
        for key in [k for k in by_prefix if len(k) == length]:
            parent = by_prefix.get(key[:-1])
            if parent is None:
                parent = by_prefix[key[:-1]] = _new_rollup()
            _merge_rollup(parent, by_prefix[key])
    admitted: dict[int, int] = defaultdict(int)
    rolled: dict[int, dict] = {}
    for key, acc in by_prefix.items():
        org_id = key[-1]
        if org_id not in targets:
            continue
        if org_id in rolled:
            _merge_rollup(rolled[org_id], acc)
        else:
            rolled[org_id] = acc
    groups: dict[int, dict] = {}
    for org_id, acc in rolled.items():
        admitted[org_id] = acc["admitted"]
        groups[org_id] = {
            **{dim: acc[dim] for dim in COUNTED_DIMENSIONS},
            **{dim: acc[dim] for dim in FLAG_DIMENSIONS},
        }

    counted: dict[str, dict[int, int]] = {}
    for target_key, field, date_field in (
        ("recognized", "recognized_lineage", "recognition_date"),
        ("sources", "sympathiser_lineage", "sympathiser_date"),
    ):
        acc: dict[int, int] = defaultdict(int)
        for lineage, n in _lineage_counts(field, date_field, year=year, org_ids=org_ids).items():
            for org_id in _lineage_tuple(lineage or ""):
                if org_id in targets:
                    acc[org_id] += n
        counted[target_key] = acc

    # Members at the start of the year are entered per node for its own members: a node's figure is the sum
    # over its current subtree (the denominator describes the tree as it stands, unlike past events).
    # Each node's own count (no join), then added into its parent deepest first: one step per node.
    members: dict[int, int] = defaultdict(int)
    if not events_only:
        for org_id, count in OrgYearStat.objects.filter(year=year).values_list("org_id", "members_start"):
            members[org_id] += count
        for pk, _path, _sector in sorted(orgs, key=lambda org: len(org[1]), reverse=True):
            parent = parent_of.get(pk)
            if parent is not None and members.get(pk):
                members[parent] += members[pk]

    quota_of = {} if events_only else dict(Quota.objects.filter(year=year).values_list("org_id", "admission_quota"))
    allocated: dict[int, int] = defaultdict(int)
    for pk, value in quota_of.items():
        parent = parent_of.get(pk)
        if parent is not None:
            allocated[parent] += value

    result: dict[int, dict] = {}
    recognized, sources = counted["recognized"], counted["sources"]
    for org_id in targets:
        result[org_id] = {
            "members_start": members.get(org_id, 0),
            "quota": quota_of.get(org_id, 0),
            "allocated_to_children": allocated.get(org_id, 0),
            "admitted": admitted.get(org_id, 0),
            "recognized": recognized.get(org_id, 0),
            "sources": sources.get(org_id, 0),
            "by_group": groups.get(org_id) or EMPTY_BY_GROUP,
        }
    return result


def _new_rollup() -> dict:
    # Plain dicts: a province rolls up thousands of prefixes, and Counter() costs several times a {}.
    return {"admitted": 0, **empty_by_group()}


def _merge_rollup(into: dict, other: dict, *, sector: str | None = None) -> None:
    """Add `other` (a rollup, or a per-lineage aggregate whose branch sector is `sector`) to `into`."""
    into["admitted"] += other["admitted"]
    if sector is not None:
        bucket = into["sector"]
        bucket[sector] = bucket.get(sector, 0) + other["admitted"]
    dims = ("gender", "age_band", "education", "occupation_group") if sector is not None else COUNTED_DIMENSIONS
    for dim in dims:
        bucket = into[dim]
        for key, n in other[dim].items():
            bucket[key] = bucket.get(key, 0) + n
    for dim in FLAG_DIMENSIONS:
        into[dim] += other[dim]


def figures_digest(fields: dict) -> str:
    """Fingerprint of a row's breakdown (the scalar columns are compared as stored): a recompute compares it
    instead of decoding thousands of JSON columns. Rows without admissions share the empty digest."""
    by_group = fields["by_group"]
    if by_group is EMPTY_BY_GROUP:
        return _EMPTY_DIGEST
    payload = json.dumps(by_group, sort_keys=True, separators=(",", ":"))
    return hashlib.sha1(payload.encode(), usedforsecurity=False).hexdigest()


def empty_by_group() -> dict:
    return {
        "sector": {},
        "gender": {},
        "age_band": {},
        "education": {},
        "occupation_group": {},
        "youth_union": 0,
        "ethnic_minority": 0,
        "religion": 0,
    }


@transaction.atomic
def attainment_recompute(*, year: int, org: OrgUnit | None = None, org_ids: Iterable[int] | None = None) -> int:
    """Recompute and store attainment for `year`: every node, the subtree of `org`, or the nodes `org_ids`.

    Idempotent; two concurrent runs are serialised by an advisory lock, so the table ends the same.
    Only rows whose figures changed are written (a nightly run over an unchanged province writes nothing).
    Returns the number of rows written."""
    _lock_recompute(year)
    targets: set[int] | None
    if org is not None:
        targets = set(OrgUnit.objects.filter(path__startswith=org.path).values_list("pk", flat=True))
    elif org_ids is not None:
        targets = set(org_ids)
    else:
        targets = None
    # Nodes named one by one (a pipeline change's lineage): recount the events only; members and quotas of those
    # nodes did not move (quota_set writes its columns itself; the nightly run refreshes members).
    events_only = org is None and org_ids is not None
    figures = compute_attainment(year=year, org_ids=targets, events_only=events_only)
    existing_rows = Attainment.objects.filter(year=year)
    if targets is not None and len(targets) <= 1000:
        existing_rows = existing_rows.filter(org_id__in=targets)
    # The scalar columns are compared as stored (cheap integers, so a row changed behind our back is repaired);
    # the JSON breakdown through its digest, instead of decoding thousands of JSON columns.
    scalars = _STORED[:-1]
    existing = {row[0]: row[1:] for row in existing_rows.values_list("org_id", *scalars, "digest")}
    if events_only:
        missing = [pk for pk in figures if pk not in existing]
        kept = _denominators(year, missing) if missing else {}
        for pk, fields in figures.items():
            old = existing.get(pk)
            fields["members_start"], fields["quota"], fields["allocated_to_children"] = (
                old[:3] if old is not None else kept[pk]
            )
    changed = []
    stored_scalars = operator.itemgetter(*scalars)  # ten thousand rows: a C call, not a generator, per row
    for pk, fields in figures.items():
        digest = figures_digest(fields)
        if existing.get(pk) != (*stored_scalars(fields), digest):
            changed.append((pk, digest, fields))
    _upsert(year, changed)
    return len(changed)


def _denominators(year: int, org_ids: list[int]) -> dict[int, tuple[int, int, int]]:
    """Members at the start of the year, quota and quota allocated to children of a few nodes."""
    out = {}
    for org in OrgUnit.objects.filter(pk__in=org_ids).only("pk", "path", "depth"):
        members = sum(
            OrgYearStat.objects.filter(year=year, org__path__startswith=org.path).values_list(
                "members_start", flat=True
            )
        )
        quota = Quota.objects.filter(org=org, year=year).values_list("admission_quota", flat=True).first() or 0
        allocated = sum(
            Quota.objects.filter(year=year, org__path__startswith=org.path, org__depth=org.depth + 1).values_list(
                "admission_quota", flat=True
            )
        )
        out[org.pk] = (members, quota, allocated)
    for pk in org_ids:
        out.setdefault(pk, (0, 0, 0))
    return out


def _upsert(year: int, changed: list[tuple[int, str, dict]]) -> None:
    if not changed:
        return
    now = timezone.now()
    if connection.vendor == "postgresql":
        try:
            from psycopg2.extras import execute_values
        except ImportError:  # pragma: no cover - another driver: the ORM path below still works
            execute_values = None
        if execute_values is not None:
            table = Attainment._meta.db_table
            columns = ", ".join((*_STORED, "digest", "computed_at"))
            updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in (*_STORED, "digest", "computed_at"))
            sql = (
                f"INSERT INTO {table} (org_id, year, {columns}) VALUES %s "  # noqa: S608 - table from model meta
                f"ON CONFLICT (org_id, year) DO UPDATE SET {updates}"
            )
            rows = [
                (pk, year, *(f[c] for c in _STORED[:-1]), json.dumps(f["by_group"]), digest, now)
                for pk, digest, f in changed
            ]
            template = "(%s, %s, %s, %s, %s, %s, %s, %s, %s::jsonb, %s, %s)"
            with connection.cursor() as cursor:
                execute_values(cursor.cursor, sql, rows, template=template, page_size=2000)
            return
    Attainment.objects.bulk_create(
        [Attainment(org_id=pk, year=year, computed_at=now, digest=digest, **f) for pk, digest, f in changed],
        batch_size=500,
        update_conflicts=True,
        unique_fields=["org", "year"],
        update_fields=[*_STORED, "digest", "computed_at"],
    )


# --------------------------------------------------------------------------------------------------------
# The dashboard's pipeline counts per node (quotas.pipeline)

_LINEAGE_MODE_LIMIT = 300  # more nodes than a few lineages: recount everything, it is cheaper than 300 lookups


@transaction.atomic
def pipeline_figures_recompute(*, today: dt.date, org_ids: Iterable[int] | None = None) -> int:
    """Store, as of `today`, each node's subtree counts and flags (every node, or the nodes `org_ids`: a pipeline
    change's lineage). A node is its own candidates and flags plus its children's rows, children first; a child
    without a row of today makes that node counted from scratch instead. Serialised with this year's attainment
    recompute, so two runs never add up rows the other is rewriting. Returns the number of rows written."""
    from recruitment.models import Candidate

    _lock_recompute(today.year)
    aggregates = figure_aggregates(year=today.year, today=today)
    ids = None if org_ids is None else set(org_ids)
    if ids is not None and len(ids) > _LINEAGE_MODE_LIMIT:
        ids = None
    step = OrgUnit.steplen
    only = {} if ids is None else {"pk__in": ids}
    nodes = list(OrgUnit.objects.filter(**only).order_by().values_list("pk", "path", "name"))
    if not nodes:
        return 0
    own_rows = Candidate.objects.filter(**({} if ids is None else {"org_id__in": ids})).order_by().values("org_id")
    own = {row.pop("org_id"): row for row in own_rows.annotate(**aggregates)}
    flagged = own_flags_of(None if ids is None else list(ids), year=today.year)
    if ids is None:
        children: list[tuple[int, str]] = [(node[0], node[1]) for node in nodes]
        stored: dict[int, dict] = {}
    else:
        below = Q()
        for node in nodes:
            below |= Q(path__startswith=node[1], depth=len(node[1]) // step + 1)
        children = list(OrgUnit.objects.filter(below).order_by().values_list("pk", "path"))
        stored = dict(
            PipelineFigures.objects.filter(org_id__in=[pk for pk, _ in children], on=today).values_list("org_id", "figures")
        )
    children_of: dict[str, list[tuple[str, int]]] = defaultdict(list)
    for pk, path in children:
        children_of[path[:-step]].append((path, pk))
    fresh: dict[int, dict] = {}
    for pk, path, name in sorted(nodes, key=lambda node: len(node[1]), reverse=True):
        total = dict(own.get(pk) or dict.fromkeys(aggregates, 0))
        missed = flagged.get(pk, ())
        total[FLAGS_KEY] = {code: [1, [[pk, name]]] if code in missed else [0, []] for code in FLAG_CODES}
        for _child_path, child in sorted(children_of.get(path, ())):
            figures = fresh.get(child) or stored.get(child)
            if not complete(figures, aggregates):
                total = _pipeline_figures_of_subtree(path, aggregates=aggregates, today=today)
                break
            for key in aggregates:
                total[key] += figures[key]
            merge_flags(total[FLAGS_KEY], figures[FLAGS_KEY])
        fresh[pk] = total
    PipelineFigures.objects.bulk_create(
        [PipelineFigures(org_id=pk, on=today, figures=figures) for pk, figures in fresh.items()],
        batch_size=1000,
        update_conflicts=True,
        unique_fields=["org"],
        update_fields=["on", "figures", "computed_at"],
    )
    return len(fresh)


def _pipeline_figures_of_subtree(path: str, *, aggregates: dict, today: dt.date) -> dict:
    """One node from scratch (a child had no row of today): its subtree's candidates and flagged nodes, live."""
    from quotas.selectors import dashboard_flags  # the live reading of the same flags
    from recruitment.models import Candidate

    total = Candidate.objects.filter(org__path__startswith=path).aggregate(**aggregates)
    root = OrgUnit.objects.get(path=path)
    total[FLAGS_KEY] = {
        flag.code: [flag.count, [[pk, name] for pk, name, _detail in flag.orgs]]
        for flag in dashboard_flags(root=root, year=today.year)
    }
    return total


# --------------------------------------------------------------------------------------------------------
# Quotas


def _conflict_message(quota: Quota) -> str:
    who = "người khác"
    if quota.updated_by_id:
        user = quota.updated_by
        who = user.get_full_name() or user.username
    at = timezone.localtime(quota.updated_at).strftime("%d/%m/%Y %H:%M") if quota.updated_at else ""
    return (
        f"Chỉ tiêu năm {quota.year} của {quota.org.name} đã được {who} thay đổi lúc {at} "
        f"(kết nạp {quota.admission_quota}, tạo nguồn {quota.source_quota}). "
        "Vui lòng xem lại số liệu mới rồi lưu lại."
    )


@transaction.atomic
def quota_set(
    *,
    org: OrgUnit,
    year: int,
    admission_quota: int,
    source_quota: int,
    actor=None,
    reason: str = "",
    expected_version: int | None = None,
    request=None,
) -> Quota:
    """Set a node's quotas for a year, keeping every revision (who, when, why).

    `expected_version` is the version the user saw (0 = "there was no quota yet"); if the row moved on since,
    nothing is written and QuotaVersionConflict says who changed it and when. None skips the check (import)."""
    if admission_quota < 0 or source_quota < 0:
        raise ValueError("Chỉ tiêu không được âm")
    quota = (
        Quota.objects.select_for_update(of=("self",))
        .select_related("org", "updated_by")
        .filter(org=org, year=year)
        .first()
    )
    if quota is None:
        if expected_version not in (None, 0):
            raise QuotaVersionConflict(f"Chỉ tiêu năm {year} của {org.name} đã bị xóa hoặc chưa từng tồn tại.")
        try:
            with transaction.atomic():
                quota = Quota.objects.create(
                    org=org,
                    year=year,
                    admission_quota=admission_quota,
                    source_quota=source_quota,
                    updated_by=actor if getattr(actor, "pk", None) else None,
                )
        except IntegrityError:
            # Another board created it between our read and our insert: that is a conflict like any other.
            quota = (
                Quota.objects.select_for_update(of=("self",))
                .select_related("org", "updated_by")
                .get(org=org, year=year)
            )
            if expected_version is not None:
                raise QuotaVersionConflict(_conflict_message(quota), quota) from None
        else:
            QuotaRevision.objects.create(
                quota=quota,
                old_admission_quota=None,
                new_admission_quota=admission_quota,
                old_source_quota=None,
                new_source_quota=source_quota,
                reason=reason,
                actor=actor if getattr(actor, "pk", None) else None,
            )
            _after_quota_change(quota, actor=actor, request=request, created=True)
            return quota
    if expected_version is not None and quota.version != expected_version:
        raise QuotaVersionConflict(_conflict_message(quota), quota)
    if quota.admission_quota == admission_quota and quota.source_quota == source_quota:
        return quota
    QuotaRevision.objects.create(
        quota=quota,
        old_admission_quota=quota.admission_quota,
        new_admission_quota=admission_quota,
        old_source_quota=quota.source_quota,
        new_source_quota=source_quota,
        reason=reason,
        actor=actor if getattr(actor, "pk", None) else None,
    )
    quota.admission_quota = admission_quota
    quota.source_quota = source_quota
    quota.version += 1  # the row is locked (select_for_update), so no other writer can interleave
    quota.updated_by = actor if getattr(actor, "pk", None) else None
    quota.save()
    _after_quota_change(quota, actor=actor, request=request, created=False)
    return quota


def _after_quota_change(quota: Quota, *, actor, request, created: bool) -> None:
    """Keep the materialised quota columns exact at once (two small updates), without a full recompute."""
    org = quota.org
    Attainment.objects.filter(org=org, year=quota.year).update(quota=quota.admission_quota)
    parent = OrgUnit.objects.filter(path=org.path[: -OrgUnit.steplen]).first() if org.depth > 1 else None
    if parent is not None:
        children = OrgUnit.objects.filter(path__startswith=parent.path, depth=parent.depth + 1).values_list(
            "pk", flat=True
        )
        total = sum(
            Quota.objects.filter(org_id__in=children, year=quota.year).values_list("admission_quota", flat=True)
        )
        Attainment.objects.filter(org=parent, year=quota.year).update(allocated_to_children=total)
    audit(
        action="quota.create" if created else "quota.update",
        actor=actor,
        obj=quota,
        org=org,
        request=request,
        detail={
            "year": quota.year,
            "admission_quota": quota.admission_quota,
            "source_quota": quota.source_quota,
            "version": quota.version,
        },
    )


@transaction.atomic
def mass_org_quota_set(*, org: OrgUnit, year: int, mass_org: str, quota: int, actor=None, request=None) -> MassOrgQuota:
    row, _ = MassOrgQuota.objects.update_or_create(org=org, year=year, mass_org=mass_org, defaults={"quota": quota})
    audit(
        action="quota.mass_org",
        actor=actor,
        obj=row,
        org=org,
        request=request,
        detail={"year": year, "mass_org": mass_org, "quota": quota},
    )
    return row


def suggested_quota(*, members_start: int, rate_pct: float) -> int:
    """A quota as a rate of members at the start of the year, rounded half up (3.5% of 7,894 = 276.29 -> 276)."""
    from decimal import ROUND_HALF_UP, Decimal

    value = Decimal(members_start) * Decimal(str(rate_pct)) / Decimal(100)
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


# Shared by every row without admissions; never mutated (rows with admissions get their own dict).
EMPTY_BY_GROUP = empty_by_group()
_EMPTY_DIGEST = hashlib.sha1(
    json.dumps(EMPTY_BY_GROUP, sort_keys=True, separators=(",", ":")).encode(), usedforsecurity=False
).hexdigest()
