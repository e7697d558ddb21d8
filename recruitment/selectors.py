"""Reads of the pipeline, always scoped to the user's subtree (orgs.selectors.subtree_q)."""

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Count, Q, QuerySet
from django.http import Http404

from core.text import fold, mask_cccd
from members.models import Person
from orgs.models import HOLDS_PEOPLE_Q, Kind, OrgUnit
from orgs.selectors import ancestors, subtree_q, visible_orgs
from recruitment import deadlines
from recruitment.models import (
    EXITS,
    PIPELINE,
    AwarenessClass,
    Candidate,
    ClassEnrolment,
    Stage,
    Transition,
)
from recruitment.stages import STAGE_FIELDS

LIST_COLUMNS = (
    "pk", "stage", "org_id", "version", "source_date", "sympathiser_date", "certificate_date", "branch_resolution_date",
    "decision_date", "ceremony_date", "recognition_date", "exit_date",
    "person__id", "person__code", "person__full_name", "person__birth_date", "person__gender", "person__cccd",
    "person__occupation_group", "person__branch_id",
    "org__id", "org__name", "org__code", "org__path", "org__kind", "org__numchild",
)


def candidates_visible(user) -> QuerySet[Candidate]:
    return Candidate.objects.filter(subtree_q(user, "org"))


def get_candidate_for_user(user, pk: int) -> Candidate:
    try:
        return candidates_visible(user).select_related("person", "org").get(pk=pk)
    except (Candidate.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404("Không tìm thấy hồ sơ") from exc


def get_candidate_of_person_for_user(user, person_id: int) -> Candidate:
    """The person page is keyed by the person; every person has exactly one pipeline row."""
    try:
        return (
            candidates_visible(user)
            .select_related("person", "person__branch", "person__updated_by", "org", "updated_by", "deciding_org",
                            "recognition_deciding_org", "awareness_class")
            .prefetch_related("person__introducers")
            .get(person_id=person_id)
        )
    except (Candidate.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404("Không tìm thấy hồ sơ") from exc


def branch_choices(user) -> QuerySet[OrgUnit]:
    """Nodes a person can belong to: sub-branches and chi bộ cơ sở, active, in the user's subtree."""
    return (
        visible_orgs(user)
        .filter(is_active=True)
        .filter(HOLDS_PEOPLE_Q)
        .order_by("path")
    )


def node_choices(user) -> QuerySet[OrgUnit]:
    """Every node of the subtree, for "within this node" filters and the board's selector."""
    return visible_orgs(user).filter(is_active=True).only("pk", "name", "code", "depth", "path").order_by("path")


# The node filter lists only these kinds (plus the user's node and its children); any other node is found by
# name with org_search. A province has ~10,000 nodes: listing them all made a 600 KB page.
FILTER_KINDS = (Kind.PROVINCE, Kind.UPPER)
ORG_SEARCH_LIMIT = 30


def filter_node_options(user, selected: OrgUnit | None = None) -> list[tuple[int, str]]:
    """(pk, indented name) for the node filter's short list: the user's node and its direct children, the committees
    above base level (tỉnh, cấp trên cơ sở) of the subtree, and the chosen node with its ancestors. One query."""
    own_depth = user.org.depth if getattr(user, "org_id", None) else 1
    keep = Q(kind__in=FILTER_KINDS) | Q(depth__lte=own_depth + 1)
    if selected is not None:
        step = OrgUnit.steplen
        keep |= Q(path__in=[selected.path[:i] for i in range(step, len(selected.path) + 1, step)])
    rows = list(visible_orgs(user).filter(is_active=True).filter(keep).order_by("path").values_list("pk", "name", "depth"))
    base = rows[0][2] if rows else 1
    return [(pk, "— " * max(depth - base, 0) + name) for pk, name, depth in rows]


@dataclass
class OrgMatch:
    pk: int
    name: str
    parent_name: str  # parent and grandparent, for telling apart nodes of the same name


def org_search(user, text: str, *, limit: int = ORG_SEARCH_LIMIT) -> list[OrgMatch]:
    """Active nodes of the user's subtree whose name holds every word typed, diacritics ignored ("khu 1 uong" finds
    "Chi bộ Khu 1" of Uông Bí only if the words are in its name); highest levels first. Two queries."""
    words = fold(text).split()
    if not words:
        return []
    match = Q()
    for word in words[:6]:
        match &= Q(name_folded__contains=word)
    code = text.strip()
    if code:
        match |= Q(code__iexact=code)
    rows = list(
        visible_orgs(user).filter(is_active=True).filter(match)
        .order_by("depth", "name_folded", "pk").only("pk", "name", "path", "depth")[:limit]
    )
    # Names repeat across the province ("Chi bộ Khu 1"): each match is shown with its parent and grandparent (the
    # province itself is left out), read in one query.
    step = OrgUnit.steplen
    wanted = {row.path[:-k] for row in rows for k in (step, 2 * step) if len(row.path) - k > step}
    names = dict(OrgUnit.objects.filter(path__in=wanted).values_list("path", "name")) if wanted else {}
    return [
        OrgMatch(row.pk, row.name, " · ".join(names[p] for p in (row.path[:-step], row.path[:-2 * step]) if p in names))
        for row in rows
    ]


def next_stage(candidate: Candidate) -> str | None:
    """The step after the current one; a chi bộ cơ sở has no đảng ủy cơ sở step."""
    from recruitment.rules import next_stage as rules_next_stage

    return rules_next_stage(candidate.stage, skips_base=candidate.org.is_chi_bo_co_so)


def exit_choices(candidate: Candidate) -> list[tuple[str, str]]:
    """The exits R-ORDER allows from the current stage (only a probationary member is struck off)."""
    from recruitment.rules import EXIT_FROM

    return [(stage, Stage(stage).label) for stage in EXITS if candidate.stage in EXIT_FROM[stage]]


# ---------------------------------------------------------------- list


@dataclass
class ListFilters:
    stage: str = ""
    org: OrgUnit | None = None
    occupation_group: str = ""
    gender: str = ""
    due: str = ""  # "" | "due" | "overdue"
    q: str = ""


def candidate_list(user, filters: ListFilters, *, today: dt.date | None = None) -> QuerySet[Candidate]:
    qs = candidates_visible(user).select_related("person", "org")
    if filters.stage:
        qs = qs.filter(stage=filters.stage)
    if filters.org is not None:
        qs = qs.filter(org__path__startswith=filters.org.path)
    if filters.occupation_group:
        qs = qs.filter(person__occupation_group=filters.occupation_group)
    if filters.gender:
        qs = qs.filter(person__gender=filters.gender)
    if filters.q:
        # person_search's rule (folded name contains the folded text) on the joined row: a `person__in` subquery
        # made PostgreSQL probe the person table once more per row (0.15 s for "nguyen van" on a province).
        folded = fold(filters.q)
        if folded:
            qs = qs.filter(person__name_folded__contains=folded)
    if filters.due:
        qs = qs.filter(due_filter(today or dt.date.today(), overdue_only=filters.due == "overdue"))
    return qs.only(*LIST_COLUMNS).order_by("person__name_folded", "pk")


MILESTONE_DATES = ("exit_date", "recognition_date", "ceremony_date", "decision_date", "branch_resolution_date",
                   "certificate_date", "sympathiser_date", "source_date")


def with_latest_milestone(candidates) -> None:
    """Sets `latest_milestone` on each row of a list page: the most recent date the record reached."""
    for candidate in candidates:
        dates = [getattr(candidate, name) for name in MILESTONE_DATES]
        candidate.latest_milestone = max((d for d in dates if d is not None), default=None)


def stepper(candidate: Candidate) -> list[tuple[int, str, str]]:
    """(number, label, state) per pipeline stage; state is done / current / todo / skipped (a chi bộ cơ sở
    has no đảng ủy cơ sở step) / left (the person exited before reaching it)."""
    skips_base = candidate.org.is_chi_bo_co_so
    if candidate.stage in PIPELINE:
        reached = PIPELINE.index(candidate.stage)
    else:
        reached = max((i for i, stage in enumerate(PIPELINE) if getattr(candidate, STAGE_FIELDS[stage][0])), default=0)
    steps = []
    for i, stage in enumerate(PIPELINE):
        if stage == Stage.BASE_RESOLUTION and skips_base:
            state = "skipped"
        elif i < reached or (i == reached and candidate.stage not in PIPELINE):
            state = "done"
        elif i == reached:
            state = "current"
        else:
            state = "left" if candidate.stage in EXITS else "todo"
        steps.append((i + 1, Stage(stage).label, state))
    return steps


# ---------------------------------------------------------------- deadlines

# Headings of the due page and how far ahead each kind looks (certificates are renewed by a new course,
# which needs more notice than a ceremony).
DUE_TITLES = {
    "decision": "Quyết định kết nạp đến hạn / quá hạn",
    "ceremony": "Lễ kết nạp đến hạn / quá hạn",
    "probation_end": "Sắp hết thời gian dự bị",
    "recognition": "Xét công nhận đảng viên chính thức đến hạn / quá hạn",
    "certificate": "Giấy chứng nhận lớp nhận thức sắp hết hạn / đã hết hạn",
}
DUE_HORIZON_DAYS = {"certificate": 90}
DUE_FIELDS = [kind.field for kind in deadlines.DEADLINE_KINDS]
DEFAULT_HORIZON_DAYS = 30


def due_filter(today: dt.date, *, overdue_only: bool = False) -> Q:
    """Candidates with an open deadline that is past (overdue_only) or within the horizon, in SQL."""
    if overdue_only:
        return deadlines.overdue_q(today=today)
    q = Q(pk__in=[])
    for kind in deadlines.DEADLINE_KINDS:
        q |= _due_q(kind, today)
    return q


def _due_q(kind, today: dt.date) -> Q:
    # Reaching the end of probation is not late; once past, the recognition deadline takes over.
    return deadlines.due_soon_q(today=today, within_days=DUE_HORIZON_DAYS.get(kind.key, DEFAULT_HORIZON_DAYS),
                                kinds=[kind.key], include_overdue=kind.key not in deadlines.NEVER_OVERDUE)


@dataclass
class DueItem:
    candidate: Candidate
    deadline: deadlines.Deadline
    today: dt.date

    @property
    def days_left(self) -> int:
        return self.deadline.days_left(self.today)

    @property
    def days_overdue(self) -> int:
        return max(-self.days_left, 0)


@dataclass
class DueGroup:
    key: str
    title: str
    rule_id: str
    items: list[DueItem]


def due_groups(qs: QuerySet[Candidate], *, today: dt.date) -> list[DueGroup]:
    """Per kind of deadline, the candidates whose stored due date is past or near. One query per kind."""
    groups = []
    for kind in deadlines.DEADLINE_KINDS:
        rows = (
            qs.filter(_due_q(kind, today))
            .select_related("person", "org")
            .only("pk", "stage", *DUE_FIELDS, "person__id", "person__full_name", "org__id", "org__name")
            .order_by(kind.field, "person__name_folded", "pk")
        )
        items = []
        for candidate in rows:
            deadline = next(d for d in deadlines.open_deadlines_of(candidate, today=today) if d.kind == kind.key)
            items.append(DueItem(candidate, deadline, today))
        groups.append(DueGroup(kind.key, DUE_TITLES.get(kind.key, kind.label), kind.rule_id, items))
    return groups


# ---------------------------------------------------------------- board

BOARD_CARDS_PER_STAGE = 25


@dataclass
class BoardColumn:
    stage: str
    label: str
    count: int
    cards: list[Candidate]


def board_columns(user, root: OrgUnit) -> list[BoardColumn]:
    """One column per pipeline stage: the count and the first cards. Two queries whatever the size.

    The cards are one UNION ALL of a `LIMIT 25` per stage: each is a top-N read along the name index, where a
    window over the whole subtree (~40,000 rows for a province) had to sort every row."""
    base = candidates_visible(user).filter(org__path__startswith=root.path, stage__in=PIPELINE)
    counts = dict(base.order_by().values_list("stage").annotate(n=Count("pk")))
    parts = [
        base.filter(stage=stage)
        .select_related("person", "org")
        .only("pk", "stage", "person__id", "person__full_name", "person__birth_date", "person__name_folded",
              "org__id", "org__name", "source_date", "sympathiser_date", "certificate_date",
              "branch_resolution_date", "base_resolution_date", "decision_date", "ceremony_date", "recognition_date")
        .order_by("person__name_folded", "pk")[:BOARD_CARDS_PER_STAGE]
        for stage in PIPELINE
    ]
    cards: dict[str, list[Candidate]] = {stage: [] for stage in PIPELINE}
    for candidate in parts[0].union(*parts[1:], all=True):
        cards[candidate.stage].append(candidate)
    for column in cards.values():  # each part came sorted, but UNION ALL does not promise to keep that order
        column.sort(key=lambda c: (c.person.name_folded, c.pk))
    return [BoardColumn(stage, Stage(stage).label, counts.get(stage, 0), cards[stage]) for stage in PIPELINE]


# ---------------------------------------------------------------- person page


@dataclass
class TimelineEntry:
    date: dt.date | None
    stage: str
    label: str
    details: list[tuple[str, str]]
    actor: str = ""
    verdicts: list = field(default_factory=list)


MILESTONE_DOCS = {
    Stage.COURSE_DONE: ["certificate_number"],
    Stage.BRANCH_RESOLUTION: ["branch_votes_for", "branch_members_summoned"],
    Stage.BASE_RESOLUTION: ["base_votes_for", "base_committee_members"],
    Stage.ADMITTED: ["decision_number", "deciding_org"],
    Stage.PROBATIONARY: ["new_member_course_date"],
    Stage.FULL_MEMBER: ["recognition_decision_number", "recognition_decision_date", "recognition_deciding_org",
                        "recognition_date"],
}


def _display(candidate: Candidate, name: str) -> str:
    value = getattr(candidate, name)
    if value in (None, ""):
        return ""
    if isinstance(value, dt.date):
        return value.strftime("%d/%m/%Y")
    return str(value)


def timeline(candidate: Candidate, transitions: list[Transition]) -> list[TimelineEntry]:
    """Milestones as recorded on the candidate (imported rows have no transition), enriched with the log."""
    by_stage = {t.to_stage: t for t in transitions}
    entries = []
    for stage in [*PIPELINE, *EXITS]:
        if stage in EXITS and stage != candidate.stage:
            continue
        names = STAGE_FIELDS[stage]
        date = getattr(candidate, names[0])
        transition = by_stage.get(stage)
        if date is None and transition is None:
            continue
        details = []
        for name in names[1:] + [n for n in MILESTONE_DOCS.get(stage, []) if n not in names]:
            shown = _display(candidate, name)
            if shown:
                label = str(Candidate._meta.get_field(name).verbose_name)
                details.append((label[:1].upper() + label[1:], shown))
        actor = ""
        if transition is not None and transition.actor is not None:
            actor = transition.actor.get_full_name() or transition.actor.username
        entries.append(
            TimelineEntry(
                date=date or (transition.effective_date if transition else None),
                stage=stage,
                label=Stage(stage).label,
                details=details,
                actor=actor,
                verdicts=transition.verdicts if transition else [],
            )
        )
    return entries


@dataclass
class HistoryEntry:
    at: dt.datetime
    who: str
    what: str
    changes: list[tuple[str, str, str]]


def _cap(text) -> str:
    text = str(text)
    return text[:1].upper() + text[1:]


class _Formatter:
    """Shows history values as users know them: dates dd/mm/yyyy, choice labels, names of linked rows
    (fetched once per model for the whole page), the CCCD masked."""

    def __init__(self, records: list):
        ids: dict[type, set] = {}
        for record in records:
            for field_obj in record.instance_type._meta.fields:
                if field_obj.is_relation and field_obj.name not in HISTORY_SKIP:
                    value = getattr(record, field_obj.attname, None)
                    if value is not None:
                        ids.setdefault(field_obj.related_model, set()).add(value)
        self.names = {
            model: {obj.pk: str(obj) for obj in model.objects.filter(pk__in=pks).only("pk", _name_field(model))}
            for model, pks in ids.items()
        }

    def __call__(self, field_obj, value) -> str:
        if value in (None, ""):
            return "–"
        if field_obj.name == "cccd":
            return mask_cccd(value)
        if field_obj.is_relation:
            return self.names.get(field_obj.related_model, {}).get(value, str(value))
        if field_obj.choices:
            return str(dict(field_obj.flatchoices).get(value, value))
        if field_obj.name == "course_result":
            return str(dict(ClassEnrolment.Result.choices).get(value, value))
        if isinstance(value, bool):
            return "Có" if value else "Không"
        if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
            return value.strftime("%d/%m/%Y")
        return str(value)


def _name_field(model) -> str:
    return "full_name" if model is Person else "name"


def _history_entries(records: list, label: str, fmt: _Formatter) -> list[HistoryEntry]:
    entries = []
    previous = None
    for record in records:  # oldest first
        who = ""
        if record.history_user is not None:
            who = record.history_user.get_full_name() or record.history_user.username
        if previous is None:
            entries.append(HistoryEntry(record.history_date, who, f"Tạo {label}", []))
        else:
            changes = []
            for field_obj in record.instance_type._meta.fields:
                if field_obj.name in HISTORY_SKIP:
                    continue
                old, new = getattr(previous, field_obj.attname, None), getattr(record, field_obj.attname, None)
                if old != new:
                    changes.append((_cap(field_obj.verbose_name), fmt(field_obj, old), fmt(field_obj, new)))
            if changes:
                entries.append(HistoryEntry(record.history_date, who, f"Sửa {label}", changes))
        previous = record
    return entries


# Bookkeeping and derived values (lineage snapshots, computed due dates) are not edits anyone made.
HISTORY_SKIP = {
    "id", "version", "updated_at", "updated_by", "name_folded", "person", "sympathiser_lineage", "admitted_lineage",
    "recognized_lineage", "decision_due", "ceremony_due", "probation_end", "recognition_due", "certificate_expiry",
}


def history(candidate: Candidate, *, limit: int = 50) -> list[HistoryEntry]:
    """Who changed what and when, from django-simple-history, newest first."""
    person_records = list(candidate.person.history.select_related("history_user").order_by("history_date", "history_id"))
    candidate_records = list(candidate.history.select_related("history_user").order_by("history_date", "history_id"))
    fmt = _Formatter(person_records + candidate_records)
    entries = _history_entries(person_records, "hồ sơ cá nhân", fmt) + _history_entries(
        candidate_records, "quá trình phát triển", fmt
    )
    entries.sort(key=lambda e: e.at, reverse=True)
    return entries[:limit]


def transitions_of(candidate: Candidate) -> list[Transition]:
    return list(candidate.transitions.select_related("actor").order_by("at", "pk"))


def decision_org_choices(branch: OrgUnit) -> QuerySet[OrgUnit]:
    """Committees above the branch; R-AUTHORITY says which of them may decide, so all are offered."""
    return ancestors(branch)


def recognition_org_choices(branch: OrgUnit) -> QuerySet[OrgUnit]:
    """Committees above the branch that hold the authority to decide (R-AUTHORITY), nearest last. They may sit
    above the user's own node, so this is not scoped to the user: it only names committees."""
    return ancestors(branch).filter(has_admission_authority=True)


def class_choices_for_branch(branch: OrgUnit) -> QuerySet[AwarenessClass]:
    """Classes organised by a node that serves the branch (the branch or one of its ancestors)."""
    return AwarenessClass.objects.filter(organiser__in=ancestors(branch, include_self=True)).order_by("-start_date")


# ---------------------------------------------------------------- awareness classes


def classes_visible(user) -> QuerySet[AwarenessClass]:
    return AwarenessClass.objects.filter(subtree_q(user, "organiser"))


def class_list(user) -> QuerySet[AwarenessClass]:
    return (
        classes_visible(user)
        .select_related("organiser")
        .annotate(
            enrolled=Count("enrolments", distinct=True),
            passed=Count("enrolments", filter=Q(enrolments__result=ClassEnrolment.Result.PASSED), distinct=True),
        )
        .order_by("-start_date", "-pk")
    )


def get_class_for_user(user, pk: int) -> AwarenessClass:
    try:
        return classes_visible(user).select_related("organiser").get(pk=pk)
    except (AwarenessClass.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404("Không tìm thấy lớp") from exc


def class_enrolments(awareness_class: AwarenessClass) -> list[ClassEnrolment]:
    return list(
        awareness_class.enrolments.select_related("candidate", "candidate__person", "candidate__org").order_by(
            "candidate__person__name_folded", "pk"
        )
    )


def enrollable_candidates(user, awareness_class: AwarenessClass) -> QuerySet[Candidate]:
    """Sympathisers of the organiser's subtree (and the user's) not yet in this class."""
    return (
        candidates_visible(user)
        .filter(org__path__startswith=awareness_class.organiser.path, stage=Stage.SYMPATHISER)
        .exclude(enrolments__awareness_class=awareness_class)
        .select_related("person", "org")
        .order_by("org__path", "person__name_folded")
    )

