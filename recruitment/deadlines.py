"""Legal deadlines of one person's pipeline (DOMAIN.md §4: R-DECISION-DUE, R-CEREMONY-DUE, R-PROBATION,
R-RECOGNITION-DUE, and the 60-month validity of the awareness-course certificate).

Two ways to use them:
- `deadlines_for(candidate, today=...)`: every deadline of one record, for the person page.
- the stored due dates on Candidate (`decision_due`, `ceremony_due`, `probation_end`, `recognition_due`,
  `certificate_expiry`), written by the services through `due_fields()` on every change, and the Q
  builders below (`open_deadline_q`, `due_soon_q`, `overdue_q`) so a list of a whole subtree filters in SQL.
"""

import datetime as dt
from dataclasses import dataclass

from django.db.models import Q

from recruitment import rules
from recruitment.models import EXITS, Stage


@dataclass(frozen=True)
class Deadline:
    rule_id: str
    label: str  # Vietnamese
    due: dt.date
    done: bool
    overdue: bool  # as of `today`; never true once done or after the person left the pipeline
    kind: str = ""  # key of DEADLINE_KINDS

    @property
    def due_date(self) -> dt.date:
        return self.due

    def days_left(self, today: dt.date) -> int:
        return (self.due - today).days


@dataclass(frozen=True)
class DeadlineKind:
    key: str
    rule_id: str
    label: str
    field: str  # stored due date on Candidate
    stages: tuple[str, ...]  # stages in which this deadline is open (not yet done)


DEADLINE_KINDS = [
    DeadlineKind("decision", "R-DECISION-DUE", "Hạn quyết định kết nạp (60 ngày làm việc sau nghị quyết chi bộ)",
                 "decision_due", (Stage.BRANCH_RESOLUTION, Stage.BASE_RESOLUTION)),
    DeadlineKind("ceremony", "R-CEREMONY-DUE", "Hạn tổ chức lễ kết nạp (30 ngày làm việc sau quyết định)",
                 "ceremony_due", (Stage.ADMITTED,)),
    DeadlineKind("probation_end", "R-PROBATION", "Hết thời gian dự bị (12 tháng sau lễ kết nạp)",
                 "probation_end", (Stage.PROBATIONARY,)),
    DeadlineKind("recognition", "R-RECOGNITION-DUE",
                 "Hạn chi bộ xét công nhận chính thức (30 ngày làm việc sau khi hết dự bị)",
                 "recognition_due", (Stage.PROBATIONARY,)),
    DeadlineKind("certificate", "R-CERT-VALID", "Giấy chứng nhận lớp nhận thức về Đảng hết hạn (60 tháng)",
                 "certificate_expiry", (Stage.COURSE_DONE, Stage.DOSSIER)),
]
KINDS_BY_KEY = {kind.key: kind for kind in DEADLINE_KINDS}
# Reaching the end of probation is an event, not something one can be late for: the recognition deadline is.
NEVER_OVERDUE = {"probation_end"}


def due_fields(candidate) -> dict[str, dt.date | None]:
    """The stored due dates for the candidate's current milestones (what the services write)."""
    out: dict[str, dt.date | None] = dict.fromkeys(kind.field for kind in DEADLINE_KINDS)
    if candidate.branch_resolution_date:
        out["decision_due"] = rules.decision_due_date(candidate.branch_resolution_date,
                                                      extended_days=candidate.decision_extended_days or 0)
    if candidate.decision_date:
        out["ceremony_due"] = rules.ceremony_due_date(candidate.decision_date)
    if candidate.ceremony_date:
        out["probation_end"] = rules.probation_end(candidate.ceremony_date)
        out["recognition_due"] = rules.recognition_due_date(out["probation_end"])
    if candidate.certificate_date:
        out["certificate_expiry"] = rules.certificate_expiry(candidate.certificate_date)
    return out


def _stored_or_computed(candidate) -> dict[str, dt.date | None]:
    """The due dates the services stored on the row (no query); computed only for rows written without them."""
    sources = {"decision_due": "branch_resolution_date", "ceremony_due": "decision_date",
               "probation_end": "ceremony_date", "recognition_due": "ceremony_date",
               "certificate_expiry": "certificate_date"}
    stored = {name: getattr(candidate, name, None) for name in sources}
    if any(stored[name] is None and getattr(candidate, source) is not None for name, source in sources.items()):
        return due_fields(candidate)
    return stored


def deadlines_for(candidate, *, today: dt.date) -> list[Deadline]:
    """Every deadline the record has reached, done or not, in the order they fall due."""
    stored = _stored_or_computed(candidate)
    exited = candidate.stage in EXITS
    items: list[Deadline] = []

    def add(key: str, due: dt.date | None, done: bool, *, rule_id: str | None = None, label: str | None = None):
        if due is None:
            return
        kind = KINDS_BY_KEY.get(key)
        overdue = not done and not exited and key not in NEVER_OVERDUE and today > due
        items.append(Deadline(rule_id=rule_id or kind.rule_id, label=label or kind.label, due=due, done=done,
                              overdue=overdue, kind=key))

    add("certificate", stored["certificate_expiry"], done=candidate.branch_resolution_date is not None)
    add("decision", stored["decision_due"], done=candidate.decision_date is not None)
    add("ceremony", stored["ceremony_due"], done=candidate.ceremony_date is not None)
    add("probation_end", stored["probation_end"], done=candidate.stage == Stage.FULL_MEMBER)
    add("recognition", stored["recognition_due"], done=candidate.recognition_branch_resolution_date is not None)
    if candidate.recognition_branch_resolution_date:
        add("recognition_decision",
            rules.decision_due_date(candidate.recognition_branch_resolution_date, recognition=True),
            done=candidate.recognition_decision_date is not None, rule_id="R-DECISION-DUE",
            label="Hạn quyết định công nhận chính thức (30 ngày làm việc sau nghị quyết chi bộ)")
    items.sort(key=lambda d: d.due)
    return items


# --- SQL filters over the stored due dates -------------------------------------------------------


def open_deadline_q(kind: str, *, due_before: dt.date | None = None, due_after: dt.date | None = None) -> Q:
    """Candidates whose `kind` deadline is open (still in the stage it belongs to) and due in the range."""
    spec = KINDS_BY_KEY[kind]
    q = Q(stage__in=spec.stages, **{f"{spec.field}__isnull": False})
    if due_before is not None:
        q &= Q(**{f"{spec.field}__lte": due_before})
    if due_after is not None:
        q &= Q(**{f"{spec.field}__gte": due_after})
    return q


def overdue_q(*, today: dt.date, kinds: list[str] | None = None) -> Q:
    """Open deadlines already past (due strictly before today)."""
    q = Q(pk__in=[])
    for key in kinds or [k.key for k in DEADLINE_KINDS if k.key not in NEVER_OVERDUE]:
        q |= open_deadline_q(key, due_before=today - dt.timedelta(days=1))
    return q


def due_soon_q(*, today: dt.date, within_days: int = 30, kinds: list[str] | None = None,
               include_overdue: bool = True) -> Q:
    """Open deadlines falling due within `within_days` calendar days (and, by default, the overdue ones)."""
    q = Q(pk__in=[])
    horizon = today + dt.timedelta(days=within_days)
    for key in kinds or [k.key for k in DEADLINE_KINDS]:
        q |= open_deadline_q(key, due_before=horizon, due_after=None if include_overdue else today)
    return q


def open_deadlines_of(candidate, *, today: dt.date, within_days: int | None = None) -> list[Deadline]:
    """Open deadlines from the stored dates of an already-fetched row (no query): for list and due pages."""
    items = []
    for spec in DEADLINE_KINDS:
        due = getattr(candidate, spec.field)
        if due is None or candidate.stage not in spec.stages:
            continue
        if within_days is not None and (due - today).days > within_days:
            continue
        overdue = spec.key not in NEVER_OVERDUE and today > due
        items.append(Deadline(rule_id=spec.rule_id, label=spec.label, due=due, done=False, overdue=overdue,
                              kind=spec.key))
    items.sort(key=lambda d: d.due)
    return items
