"""Every write of the pipeline: creating a record, each stage change, exits, the importer's rows and the
awareness-course classes. Stage changes all go through `candidate_advance`, which locks the row, checks
the optimistic version, evaluates the rules (recruitment.rules), writes the fields, the lineage snapshots,
the computed due dates and a Transition row, audits, and schedules the attainment recompute on commit."""

import datetime as dt
import re
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Model

from core.audit import audit
from core.text import fold, nfc
from members.models import Introducer, Person
from members.services import person_fields_clean
from orgs.models import OrgUnit
from orgs.selectors import user_root_path
from recruitment import deadlines, rules, workdays
from recruitment.models import (
    EXITS,
    PIPELINE,
    AwarenessClass,
    Candidate,
    ClassEnrolment,
    Stage,
    Transition,
)
from recruitment.rules import Verdict
from recruitment.stages import STAGE_FIELDS

# Extra Candidate fields a step may carry besides STAGE_FIELDS.
STEP_EXTRAS = {
    Stage.ADMITTED: ["decision_extended_days"],
    Stage.COURSE_DONE: ["course_result"],
    # A stated recognition date is checked by R-PROBATION; the stored one is always the end of probation.
    Stage.FULL_MEMBER: ["recognition_date", "recognition_deciding_org"],
}
# Milestones that feed attainment (sources, admissions, recognitions) and must be recomputed.
ATTAINMENT_STAGES = {Stage.SYMPATHISER, Stage.COURSE_DONE, Stage.ADMITTED, Stage.FULL_MEMBER, Stage.STRUCK_OFF}


class RuleRefusal(Exception):
    """A step refused by one or more rules; `verdicts` are the failing "error" verdicts."""

    def __init__(self, verdicts: list[Verdict], all_verdicts: list[Verdict] | None = None):
        self.verdicts = verdicts
        self.all_verdicts = all_verdicts or verdicts
        super().__init__(" ".join(v.message for v in verdicts))

    @property
    def rule_ids(self) -> list[str]:
        return [v.rule_id for v in self.verdicts]


class StaleEdit(Exception):
    """Someone else saved the record after the user opened it."""

    def __init__(self, *, changed_by: str, changed_at: dt.datetime | None):
        self.changed_by = changed_by
        self.changed_at = changed_at
        when = changed_at.strftime("%H:%M %d/%m/%Y") if changed_at else "(không rõ)"
        super().__init__(f"Hồ sơ vừa được {changed_by} thay đổi lúc {when}; hãy tải lại trang. "
                         "Những gì bạn đã nhập vẫn được giữ trên biểu mẫu.")


class DuplicateCCCD(ValidationError):
    """The CCCD is already on another record. `existing` is that record only when the actor may see it."""

    def __init__(self, message: str, existing: Person | None = None):
        super().__init__({"cccd": [message]})
        self.existing = existing


# --- helpers ---------------------------------------------------------------------------------------


def _actor_name(user) -> str:
    if user is None:
        return "một người dùng khác"
    return user.get_full_name() or user.username


def _check_scope(actor, org: OrgUnit) -> None:
    """Services refuse writes outside the actor's subtree even if a view forgot to (actor None: system)."""
    if actor is not None:
        _check_scope_under(user_root_path(actor), org)


def _json_safe(value):
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Model):
        return {"id": value.pk, "code": getattr(value, "code", ""), "name": str(value)}
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    return value


def _step_fields(stage: str) -> list[str]:
    return list(STAGE_FIELDS.get(stage, [])) + STEP_EXTRAS.get(stage, [])


def _clean_step_data(stage: str, data: dict) -> dict:
    allowed = set(_step_fields(stage))
    clean = {}
    for name, value in data.items():
        if name not in allowed:
            continue
        if isinstance(value, str):
            value = nfc(value)
        clean[name] = value
    return clean


def _set_due_dates(candidate: Candidate) -> None:
    for name, value in deadlines.due_fields(candidate).items():
        setattr(candidate, name, value)


def _schedule_recompute(*, lineage: str, on: dt.date | None) -> None:
    if not lineage or on is None:
        return
    from quotas.services import attainment_schedule_recompute  # quotas owns attainment

    attainment_schedule_recompute(lineage=lineage, year=on.year)


def _pipeline_changed(*lineages: str) -> None:
    from quotas.services import pipeline_changed  # quotas owns the dashboard's counts

    pipeline_changed(*(lineage for lineage in lineages if lineage))


def _check_scope_under(actor_root: str | None, org: OrgUnit) -> None:
    """The scope check with the actor's subtree path already looked up ("" for the system, None for nothing)."""
    if actor_root is None or not org.path.startswith(actor_root):
        raise PermissionDenied("Tổ chức này nằm ngoài phạm vi quản lý của bạn.")


def _check_version(obj, expected_version: int | None) -> None:
    if expected_version is not None and obj.version != expected_version:
        raise StaleEdit(changed_by=_actor_name(obj.updated_by), changed_at=obj.updated_at)


def apply_step(candidate: Candidate, *, to_stage: str, data: dict) -> dt.date:
    """Write one step's fields, stage, lineage snapshots and due dates onto an in-memory candidate (no save).
    The services call it after the rules passed; the demo uses it to build history the same way.
    Returns the step's effective date."""
    for name, value in data.items():
        setattr(candidate, name, value)
    candidate.stage = to_stage
    lineage = candidate.org.lineage
    if to_stage == Stage.SYMPATHISER:
        candidate.sympathiser_lineage = lineage
    elif to_stage == Stage.ADMITTED:
        candidate.admitted_lineage = lineage
    elif to_stage == Stage.FULL_MEMBER:
        candidate.recognized_lineage = lineage
        # R-PROBATION: recognition takes effect at the end of probation, whatever day the decision is signed.
        candidate.recognition_date = rules.probation_end(candidate.ceremony_date)
    _set_due_dates(candidate)
    if to_stage == Stage.FULL_MEMBER:
        return candidate.recognition_decision_date or candidate.recognition_date
    return getattr(candidate, STAGE_FIELDS[to_stage][0], None)


def transition_for(candidate: Candidate, *, from_stage: str, to_stage: str, effective_date: dt.date, actor,
                   verdicts: list[Verdict], data: dict, source: str) -> Transition:
    return Transition(
        candidate=candidate, from_stage=from_stage, to_stage=to_stage, effective_date=effective_date,
        org=candidate.org, org_lineage=candidate.org.lineage, actor=actor,
        verdicts=[v.as_json() for v in verdicts], data=_json_safe(data), source=source,
    )


def attainment_date(candidate: Candidate, stage: str) -> dt.date | None:
    """The date whose year the milestone counts in (admission: decision date; recognition: its effective date)."""
    return {
        Stage.SYMPATHISER: candidate.sympathiser_date,
        Stage.COURSE_DONE: candidate.certificate_date,
        Stage.ADMITTED: candidate.decision_date,
        Stage.FULL_MEMBER: candidate.recognition_date,
        Stage.STRUCK_OFF: candidate.exit_date,
    }.get(stage)


# --- people ----------------------------------------------------------------------------------------


def _duplicate_cccd(cccd: str, actor, exclude_pk: int | None = None) -> None:
    existing = Person.objects.filter(cccd=cccd).exclude(pk=exclude_pk).select_related("branch").first()
    if existing is not None:
        raise _cccd_taken(cccd, existing, user_root_path(actor) if actor is not None else "")


def _cccd_taken(cccd: str, existing: Person, actor_root: str | None) -> DuplicateCCCD:
    """Name the record holding the CCCD only to someone who may see it."""
    if actor_root is not None and existing.branch.path.startswith(actor_root):
        return DuplicateCCCD(f"Số CCCD {cccd} đã có trong hồ sơ {existing.code} của {existing.full_name} "
                             f"({existing.branch.name}).", existing)
    return DuplicateCCCD(f"Số CCCD {cccd} đã có trong một hồ sơ thuộc tổ chức ngoài phạm vi của bạn; "
                         "liên hệ cấp ủy cấp trên.")


def _code_taken(code: str) -> str:
    return f"Mã hồ sơ {code} đã tồn tại."


def _new_code() -> str:
    last = Person.objects.filter(code__regex=r"^HS\d{7}$").order_by("-code").values_list("code", flat=True).first()
    number = int(last[2:]) + 1 if last else 1
    return f"HS{number:07d}"


def _require_branch(branch: OrgUnit) -> None:
    if not branch.holds_people:
        raise ValidationError({"branch": [f"{branch.name} không phải là chi bộ; hãy chọn chi bộ của người này."]})


def _new_record(*, fields: dict, branch: OrgUnit, source_date: dt.date, actor,
                source: str) -> tuple[Person, Candidate, Transition]:
    """In memory, no query: the person (validated, uniqueness left to the caller), their stage-1 record with
    its due dates, and the first Transition."""
    person = Person(branch=branch, updated_by=actor, **fields)
    person.name_folded = fold(person.full_name)  # Person.save() does this; bulk_create does not call it
    person.full_clean(exclude=["branch", "updated_by"], validate_unique=False, validate_constraints=False)
    candidate = Candidate(person=person, org=branch, stage=Stage.OUTSTANDING, source_date=source_date,
                          updated_by=actor)
    _set_due_dates(candidate)
    first = Transition(candidate=candidate, from_stage="", to_stage=Stage.OUTSTANDING, effective_date=source_date,
                       org=branch, org_lineage=branch.lineage, actor=actor,
                       data=_json_safe({"source_date": source_date}), source=source)
    return person, candidate, first


@transaction.atomic
def candidate_create(*, person_data: dict, branch: OrgUnit, actor, source: str = "web") -> Candidate:
    """A new person on the outstanding-masses list (stage 1) of `branch`.

    `person_data`: Person fields, plus optionally `source_date` (date put on the list, default today).
    Raises DuplicateCCCD (a ValidationError) if the CCCD is taken, ValidationError for bad input."""
    _check_scope(actor, branch)
    _require_branch(branch)
    data = dict(person_data)
    source_date = data.pop("source_date", None) or dt.date.today()
    fields = person_fields_clean(data)
    if fields.get("cccd"):
        _duplicate_cccd(fields["cccd"], actor)
    if not fields.get("code"):
        fields["code"] = _new_code()
    elif Person.objects.filter(code=fields["code"]).exists():
        raise ValidationError({"code": [_code_taken(fields["code"])]})
    person, candidate, first = _new_record(fields=fields, branch=branch, source_date=source_date, actor=actor,
                                           source=source)
    person.save()
    candidate.save()
    first.save()
    audit(action="candidate.create", actor=actor, obj=candidate, org=branch, detail={"source": source})
    _pipeline_changed(branch.lineage)
    return candidate


@transaction.atomic
def person_update(*, person: Person, data: dict, actor, expected_version: int) -> Person:
    """Edit a person's identity fields. StaleEdit if someone saved since the form was opened.
    A new `branch` in `data` moves the record (the pipeline's past lineage snapshots stay)."""
    locked = Person.objects.select_for_update(of=("self",)).select_related("updated_by", "branch").get(pk=person.pk)
    _check_scope(actor, locked.branch)
    _check_version(locked, expected_version)
    data = dict(data)
    new_branch = data.pop("branch", None)
    fields = person_fields_clean(data)
    if not fields.get("code"):
        fields.pop("code", None)
    if fields.get("cccd") and fields["cccd"] != locked.cccd:
        _duplicate_cccd(fields["cccd"], actor, exclude_pk=locked.pk)
    for name, value in fields.items():
        setattr(locked, name, value)
    if new_branch is not None and new_branch.pk != locked.branch_id:
        _check_scope(actor, new_branch)
        if not new_branch.holds_people:
            raise ValidationError({"branch": [f"{new_branch.name} không phải là chi bộ."]})
        _pipeline_changed(locked.branch.lineage, new_branch.lineage)
        locked.branch = new_branch
        Candidate.objects.filter(person=locked).update(org=new_branch)
    locked.full_clean(exclude=["branch", "updated_by"])
    locked.version += 1
    locked.updated_by = actor
    locked.save()
    audit(action="person.update", actor=actor, obj=locked, org=locked.branch, detail={"fields": sorted(fields)})
    return locked


@transaction.atomic
def introducer_add(*, person: Person, actor, kind: str, name: str, is_official_member: bool = True,
                   months_known: int = 12, introduced_on: dt.date) -> Introducer:
    """Record an introducer (3-KNĐ) or the Đoàn / Công đoàn resolution (4-KNĐ); R-INTRODUCER reads them."""
    _check_scope(actor, person.branch)
    intro = Introducer.objects.create(person=person, kind=kind, name=nfc(name),
                                      is_official_member=bool(is_official_member) or kind != Introducer.Kind.MEMBER,
                                      months_known=months_known or 0, introduced_on=introduced_on)
    audit(action="introducer.add", actor=actor, obj=person, org=person.branch, detail={"kind": kind})
    return intro


# --- the pipeline ----------------------------------------------------------------------------------


def _lock(candidate: Candidate) -> Candidate:
    return (Candidate.objects.select_for_update(of=("self",))
            .select_related("person", "org", "updated_by").get(pk=candidate.pk))


def _step(candidate: Candidate, *, to_stage: str, data: dict, actor, source: str, today: dt.date | None,
          partial: bool) -> tuple[list[Verdict], Transition]:
    """One step in memory: evaluate the rules (RuleRefusal on any error), apply the fields, bump the version,
    and return the verdicts with the unsaved Transition. The caller writes."""
    step = _clean_step_data(to_stage, data)
    eval_data = dict(step)
    if "introducers" in data:  # read by R-INTRODUCER / R-DOSSIER-STALE, stored through introducer_add
        eval_data["introducers"] = data["introducers"]
    verdicts = rules.evaluate(candidate=candidate, person=candidate.person, to_stage=to_stage, data=eval_data,
                              today=today or dt.date.today(), partial=partial)
    failing = rules.refusals(verdicts)
    if failing:
        raise RuleRefusal(failing, verdicts)
    from_stage = candidate.stage
    previous = rules.latest_milestone(candidate, before=to_stage)
    effective = apply_step(candidate, to_stage=to_stage, data=step) or (previous[1] if previous else None) \
        or today or dt.date.today()
    candidate.version += 1
    candidate.updated_by = actor
    transition = transition_for(candidate, from_stage=from_stage, to_stage=to_stage, effective_date=effective,
                                actor=actor, verdicts=verdicts, data=step, source=source)
    return verdicts, transition


def _advance_locked(locked: Candidate, *, to_stage: str, data: dict, actor, source: str,
                    today: dt.date | None, partial: bool) -> tuple[Candidate, list[Verdict]]:
    verdicts, transition = _step(locked, to_stage=to_stage, data=data, actor=actor, source=source, today=today,
                                 partial=partial)
    locked.save()
    transition.save()
    audit(action="candidate.advance", actor=actor, obj=locked, org=locked.org,
          detail={"from": transition.from_stage, "to": to_stage, "source": source,
                  "warnings": [v.rule_id for v in verdicts if not v.ok]})
    if to_stage in ATTAINMENT_STAGES:
        _schedule_recompute(lineage=locked.org.lineage, on=attainment_date(locked, to_stage))
    _pipeline_changed(locked.org.lineage)
    return locked, verdicts


@transaction.atomic
def candidate_advance(*, candidate: Candidate, to_stage: str, data: dict, actor, expected_version: int | None = None,
                      source: str = "web", today: dt.date | None = None) -> Candidate:
    """Record the next step. Refuses (RuleRefusal) when any rule says "error": nothing is written then.
    The row lock plus the stage check (R-ORDER) make recording one step twice impossible."""
    locked = _lock(candidate)
    _check_scope(actor, locked.org)
    _check_version(locked, expected_version)
    if to_stage in EXITS:
        raise ValueError("Dùng candidate_exit cho các trường hợp ra khỏi danh sách.")
    locked, _verdicts = _advance_locked(locked, to_stage=to_stage, data=data, actor=actor, source=source,
                                        today=today, partial=source == "import")
    return locked


@transaction.atomic
def candidate_exit(*, candidate: Candidate, to_stage: str, exit_date: dt.date, reason: str, actor,
                   expected_version: int | None = None, source: str = "web") -> Candidate:
    """Removed from the list / not admitted / probationary member struck off. Past milestones stay."""
    if to_stage not in EXITS:
        raise ValueError(f"{to_stage} không phải là hình thức ra khỏi danh sách")
    locked = _lock(candidate)
    _check_scope(actor, locked.org)
    _check_version(locked, expected_version)
    locked, _verdicts = _advance_locked(locked, to_stage=to_stage, data={"exit_date": exit_date,
                                                                          "exit_reason": reason},
                                        actor=actor, source=source, today=None, partial=False)
    return locked


@transaction.atomic
def decision_extend(*, candidate: Candidate, days: int, actor, expected_version: int | None = None,
                    reason: str = "") -> Candidate:
    """Extend the admission-decision deadline (R-DECISION-DUE): once, by up to 30 working days, while the
    decision is awaited. Moves the stored due date."""
    locked = _lock(candidate)
    _check_scope(actor, locked.org)
    _check_version(locked, expected_version)
    limit = rules.regime_on(locked.branch_resolution_date).extension_max_working_days
    if locked.stage not in (Stage.BRANCH_RESOLUTION, Stage.BASE_RESOLUTION):
        raise ValidationError("Chỉ gia hạn khi hồ sơ đang chờ quyết định kết nạp.")
    if locked.decision_extended_days:
        raise ValidationError(f"R-DECISION-DUE: thời hạn đã được gia hạn {locked.decision_extended_days} ngày làm "
                              "việc; chỉ được gia hạn một lần.")
    if not 1 <= days <= limit:
        raise ValidationError(f"R-DECISION-DUE: chỉ được gia hạn tối đa {limit} ngày làm việc.")
    locked.decision_extended_days = days
    _set_due_dates(locked)
    locked.version += 1
    locked.updated_by = actor
    locked.save()
    audit(action="candidate.decision_extend", actor=actor, obj=locked, org=locked.org, detail={"days": days})
    _pipeline_changed(locked.org.lineage)  # the forecast and the overdue counts read the decision due date
    return locked


def candidate_transfer(*, candidate: Candidate, to_branch: OrgUnit, actor, expected_version: int | None = None):
    """Transfer to another organisation: the record moves, its history (lineage snapshots) stays."""
    person = candidate.person
    return person_update(person=person, data={"branch": to_branch}, actor=actor,
                         expected_version=expected_version if expected_version is not None else person.version)


# --- importer --------------------------------------------------------------------------------------


# The milestones a workbook row can carry, per stage; a row's stage is the last one it has.
ROW_STAGE_KEYS = {
    Stage.OUTSTANDING: "source_date",
    Stage.SYMPATHISER: "sympathiser_date",
    Stage.COURSE_DONE: "certificate_date",
    Stage.DOSSIER: None,  # the sheet has no dossier columns: passed through, documents shown as missing
    Stage.BRANCH_RESOLUTION: "branch_resolution_date",
    Stage.BASE_RESOLUTION: "base_resolution_date",
    Stage.ADMITTED: "decision_date",
    Stage.PROBATIONARY: "ceremony_date",
    Stage.FULL_MEMBER: "recognition_decision_date",
}
DOSSIER_DOCUMENTS = [
    ("application_date", "Đơn xin vào Đảng (1-KNĐ)"),
    ("personal_history_date", "Lý lịch người xin vào Đảng (2-KNĐ)"),
    ("opinions_date", "Tổng hợp ý kiến nhận xét của đoàn thể, chi ủy nơi cư trú (5-KNĐ)"),
]


def missing_documents(candidate: Candidate) -> list[str]:
    """Documents a record reached its stage without (e.g. imported from a workbook that cannot carry them)."""
    if candidate.stage in (Stage.OUTSTANDING, Stage.SYMPATHISER, Stage.COURSE_DONE, Stage.REMOVED):
        return []
    out = [label for name, label in DOSSIER_DOCUMENTS if getattr(candidate, name) is None]
    if candidate.stage in PIPELINE and PIPELINE.index(candidate.stage) >= PIPELINE.index(Stage.BRANCH_RESOLUTION):
        intros = list(candidate.person.introducers.all())
        if not intros:
            out.append("Giấy giới thiệu của đảng viên chính thức / nghị quyết Đoàn, Công đoàn (3-KNĐ, 4-KNĐ)")
    return out


def row_target_stage(milestones: dict, *, skips_base: bool) -> str:
    target = Stage.OUTSTANDING
    for stage, key in ROW_STAGE_KEYS.items():
        if key and milestones.get(key) is not None:
            target = stage
    if milestones.get("recognition_date") is not None or milestones.get("recognition_decision_number"):
        target = Stage.FULL_MEMBER
    if target == Stage.BASE_RESOLUTION and skips_base:
        target = Stage.BRANCH_RESOLUTION
    return target


def _same(a, b) -> bool:
    if isinstance(a, Model) or isinstance(b, Model):
        return getattr(a, "pk", a) == getattr(b, "pk", b)
    return (a or None) == (b or None)


@transaction.atomic
def candidate_apply_row(*, person_data: dict, milestones: dict, branch: OrgUnit, actor,
                        source: str = "import") -> tuple[Candidate, list[Verdict]]:
    """One workbook row: create or update the person (by `person_data["code"]`, the Mã hồ sơ), then walk the
    row's milestones in pipeline order through the same rules as the browser (partial mode: introducers and
    opinions are not on the sheet). `milestones` holds Candidate field names (STAGE_FIELDS) plus optionally
    `exit_date`, `exit_reason`, `exit_stage` and `recognition_date`. Idempotent: an unchanged row writes
    nothing and adds no Transition. Returns the candidate and every verdict met (warnings included)."""
    code = nfc(person_data.get("code", ""))
    if not code:
        raise ValidationError({"code": ["Thiếu mã hồ sơ."]})
    _check_scope(actor, branch)
    person = Person.objects.select_for_update().filter(code=code).first()
    all_verdicts: list[Verdict] = []
    if person is None:
        dates = [v for k, v in milestones.items() if k.endswith("_date") and isinstance(v, dt.date)]
        data = dict(person_data, source_date=milestones.get("source_date") or (min(dates) if dates else None))
        candidate = candidate_create(person_data=data, branch=branch, actor=actor, source=source)
    else:
        changes = {k: v for k, v in person_fields_clean(dict(person_data)).items()
                   if k != "code" and not _same(getattr(person, k), v)}
        if person.branch_id != branch.pk:
            changes["branch"] = branch
        if changes:
            person_update(person=person, data=changes, actor=actor, expected_version=person.version)
        candidate = Candidate.objects.get(person=person)
        if milestones.get("source_date") and candidate.source_date != milestones["source_date"] and \
                candidate.stage == Stage.OUTSTANDING:
            Candidate.objects.filter(pk=candidate.pk).update(source_date=milestones["source_date"])
    locked = _lock(candidate)

    # Milestones already recorded must agree with the row: a workbook cannot rewrite history silently.
    for stage in PIPELINE[1: _reached(locked) + 1]:
        for name in _step_fields(stage):
            if name in milestones and not _same(getattr(locked, name), milestones[name]):
                raise RuleRefusal([Verdict(
                    rule_id="R-ORDER", ok=False, severity=rules.ERROR,
                    message=f"R-ORDER: {rules.field_label(name)} đã ghi nhận là "
                            f"{_display(getattr(locked, name))}, dòng nhập ghi {_display(milestones[name])}; "
                            "sửa trên trang hồ sơ nếu cần.",
                    source="Điều lệ Đảng, Điều 4 (trình tự kết nạp)")])

    for stage, step in _row_steps(locked, milestones):
        locked, verdicts = _advance_locked(locked, to_stage=stage, data=step, actor=actor, source=source,
                                           today=None, partial=True)
        all_verdicts += verdicts
    return locked, all_verdicts


def _row_steps(candidate: Candidate, milestones: dict) -> Iterator[tuple[str, dict]]:
    """The steps a workbook row asks of `candidate`, in pipeline order, then its exit if any. The caller applies
    each step to `candidate` before asking for the next (the exit depends on how far it got)."""
    skips_base = candidate.org.is_chi_bo_co_so
    target = row_target_stage(milestones, skips_base=skips_base)
    for stage in PIPELINE[_reached(candidate) + 1: PIPELINE.index(target) + 1]:
        if stage == Stage.BASE_RESOLUTION and skips_base:
            continue
        yield stage, {name: milestones[name] for name in _step_fields(stage) if name in milestones}
    if milestones.get("exit_date") and candidate.stage not in EXITS:
        yield (milestones.get("exit_stage") or _exit_stage_for(candidate.stage),
               {"exit_date": milestones["exit_date"], "exit_reason": milestones.get("exit_reason", "")})


@dataclass
class NewRow:
    """A workbook row for a person not in the system yet: what `candidate_apply_row` takes."""

    person_data: dict
    milestones: dict
    branch: OrgUnit


@dataclass
class RowOutcome:
    verdicts: list[Verdict] = field(default_factory=list)  # every verdict met, warnings included
    error: Exception | None = None  # RuleRefusal, DuplicateCCCD / ValidationError or PermissionDenied


def candidates_create_from_rows(*, rows: Sequence[NewRow], actor, source: str = "import", write: bool = True,
                                progress: Callable[[int], None] | None = None) -> list[RowOutcome]:
    """Many new people at once (the workbook import): each row gets exactly what `candidate_apply_row` would do
    for a new person (the same checks, rules, fields, due dates and Transitions), computed in memory, then the
    rows without error are written with a few bulk inserts. Codes and CCCDs are checked against the database
    in one query each and against each other. History gets one version per record, the audit log one row.
    The caller holds the transaction and, for the import, recomputes attainment once afterwards.
    `progress(rows_checked)` is called every 500 rows. Returns one outcome per row, in order."""
    actor_root = user_root_path(actor) if actor is not None else ""
    outcomes = [RowOutcome() for _ in rows]
    cleaned: list[dict | None] = []
    for row, outcome in zip(rows, outcomes, strict=True):
        try:
            _check_scope_under(actor_root, row.branch)
            _require_branch(row.branch)
            fields = person_fields_clean({k: v for k, v in row.person_data.items() if k != "source_date"})
            if not fields.get("code"):
                raise ValidationError({"code": ["Thiếu mã hồ sơ."]})
            cleaned.append(fields)
        except (ValidationError, PermissionDenied) as exc:
            outcome.error = exc
            cleaned.append(None)
    codes_taken = set(Person.objects.filter(code__in=[f["code"] for f in cleaned if f]).values_list("code", flat=True))
    cccd_holders = {p.cccd: p for p in Person.objects.filter(cccd__in=[f["cccd"] for f in cleaned if f and f.get("cccd")])
                    .select_related("branch")}
    records: list[tuple[Person, Candidate, list[Transition]]] = []
    with workdays.preloaded(dt.date(2000, 1, 1), dt.date.today() + dt.timedelta(days=3 * 366)):
        for done, (row, fields, outcome) in enumerate(zip(rows, cleaned, outcomes, strict=True), start=1):
            if progress is not None and done % 500 == 0:
                progress(done)
            if fields is None:
                continue
            try:
                if fields.get("cccd") in cccd_holders:
                    raise _cccd_taken(fields["cccd"], cccd_holders[fields["cccd"]], actor_root)
                if fields["code"] in codes_taken:
                    raise ValidationError({"code": [_code_taken(fields["code"])]})
                person, candidate, transitions = _new_record_walked(
                    fields=fields, row=row, actor=actor, source=source, outcome=outcome)
            except (ValidationError, RuleRefusal) as exc:
                outcome.error = exc
                continue
            if person.cccd:
                cccd_holders[person.cccd] = person  # a later row of the same sheet with this CCCD is refused
            codes_taken.add(person.code)
            records.append((person, candidate, transitions))
    if write and records:
        _write_new_records(records, actor=actor, source=source)
    return outcomes


def _new_record_walked(*, fields: dict, row: NewRow, actor, source: str,
                       outcome: RowOutcome) -> tuple[Person, Candidate, list[Transition]]:
    """`candidate_apply_row` for a new person, in memory: the record, then every step the row asks for."""
    milestones = row.milestones
    dates = [v for k, v in milestones.items() if k.endswith("_date") and isinstance(v, dt.date)]
    source_date = milestones.get("source_date") or (min(dates) if dates else None) or dt.date.today()
    person, candidate, first = _new_record(fields=fields, branch=row.branch, source_date=source_date, actor=actor,
                                           source=source)
    transitions = [first]
    for stage, step in _row_steps(candidate, milestones):
        verdicts, transition = _step(candidate, to_stage=stage, data=step, actor=actor, source=source, today=None,
                                     partial=True)
        outcome.verdicts += verdicts
        transitions.append(transition)
    return person, candidate, transitions


def _write_new_records(records: list[tuple[Person, Candidate, list[Transition]]], *, actor, source: str) -> None:
    from simple_history.utils import bulk_create_with_history

    people = [person for person, _, _ in records]
    bulk_create_with_history(people, Person, batch_size=1000, default_user=actor, default_change_reason=source)
    candidates = []
    for person, candidate, _ in records:
        candidate.person = person  # now with its primary key
        candidates.append(candidate)
    bulk_create_with_history(candidates, Candidate, batch_size=1000, default_user=actor, default_change_reason=source)
    transitions = []
    for _, candidate, steps in records:
        for transition in steps:
            transition.candidate = candidate
            transitions.append(transition)
    Transition.objects.bulk_create(transitions, batch_size=2000)
    by_stage = dict(Counter(candidate.stage for _, candidate, _ in records))
    audit(action="candidate.create_many", actor=actor, org=getattr(actor, "org", None),
          detail={"source": source, "created": len(records), "transitions": len(transitions), "by_stage": by_stage})


def _exit_stage_for(stage: str) -> str:
    """The sheet has one exit date and a reason: the kind of exit follows from how far the person got."""
    if stage in (Stage.ADMITTED, Stage.PROBATIONARY):
        return Stage.STRUCK_OFF
    if stage in (Stage.BRANCH_RESOLUTION, Stage.BASE_RESOLUTION):
        return Stage.NOT_ADMITTED
    return Stage.REMOVED


def _reached(candidate: Candidate) -> int:
    """Index in PIPELINE of the last milestone recorded (for exits: the last one before leaving)."""
    if candidate.stage in PIPELINE:
        return PIPELINE.index(candidate.stage)
    last = 0
    for i, stage in enumerate(PIPELINE):
        if getattr(candidate, STAGE_FIELDS[stage][0]) is not None:
            last = i
    return last


def _display(value) -> str:
    if isinstance(value, dt.date):
        return value.strftime("%d/%m/%Y")
    return str(value) if value not in (None, "") else "(trống)"


# --- awareness-course classes ----------------------------------------------------------------------


@transaction.atomic
def class_open(*, code: str, name: str, organiser: OrgUnit, start_date: dt.date, end_date: dt.date, place: str,
               actor) -> AwarenessClass:
    _check_scope(actor, organiser)
    if end_date < start_date:
        raise ValidationError({"end_date": ["Ngày bế giảng trước ngày khai giảng."]})
    if AwarenessClass.objects.filter(code=nfc(code)).exists():
        raise ValidationError({"code": [f"Mã lớp {code} đã tồn tại."]})
    klass = AwarenessClass.objects.create(code=nfc(code), name=nfc(name), organiser=organiser, start_date=start_date,
                                          end_date=end_date, place=nfc(place or ""), created_by=actor)
    audit(action="class.open", actor=actor, obj=klass, org=organiser)
    return klass


@transaction.atomic
def class_enrol(*, awareness_class: AwarenessClass, candidates: list, actor) -> int:
    """Enrol sympathisers of the nodes the organiser serves (its subtree). Returns how many were added;
    anyone else in the list is refused as a whole (ValidationError naming them)."""
    organiser = awareness_class.organiser
    ids = [getattr(c, "pk", c) for c in candidates]
    rows = list(Candidate.objects.filter(pk__in=ids).select_related("person", "org"))
    wrong = [c for c in rows if c.stage != Stage.SYMPATHISER or not c.org.path.startswith(organiser.path)]
    if wrong:
        names = ", ".join(c.person.full_name for c in wrong[:5])
        raise ValidationError(f"Chỉ ghi danh cảm tình Đảng thuộc các tổ chức do {organiser.name} phụ trách: {names}.")
    for c in rows:
        _check_scope(actor, c.org)
    existing = set(ClassEnrolment.objects.filter(awareness_class=awareness_class, candidate_id__in=ids)
                   .values_list("candidate_id", flat=True))
    new = [ClassEnrolment(awareness_class=awareness_class, candidate=c) for c in rows if c.pk not in existing]
    ClassEnrolment.objects.bulk_create(new)
    if new:
        audit(action="class.enrol", actor=actor, obj=awareness_class, org=organiser, detail={"count": len(new)})
    return len(new)


def _next_certificate_numbers(prefix: str, count: int) -> list[str]:
    pattern = re.compile(rf"^{re.escape(prefix)}(\d+)$")
    taken = [int(m.group(1)) for n in ClassEnrolment.objects.filter(certificate_number__startswith=prefix)
             .values_list("certificate_number", flat=True) if (m := pattern.match(n))]
    start = max(taken, default=0) + 1
    return [f"{prefix}{start + i:03d}" for i in range(count)]


@transaction.atomic
def class_record_results(*, awareness_class: AwarenessClass, results: dict[int, str], certificate_date: dt.date,
                         number_prefix: str, actor) -> int:
    """Bulk results: `results` maps candidate id -> "dat" | "khong_dat". Those who passed get sequential
    certificate numbers (prefix + 001, 002, … continuing after numbers already issued) and move to
    "course done" through candidate_advance (same rules). All or nothing: one refusal refuses the batch.
    Returns the number of certificates issued."""
    _check_scope(actor, awareness_class.organiser)
    if certificate_date < awareness_class.start_date:
        raise ValidationError({"certificate_date": ["Ngày cấp giấy chứng nhận trước ngày khai giảng."]})
    enrolments = list(ClassEnrolment.objects.select_for_update().filter(
        awareness_class=awareness_class, candidate_id__in=list(results)).select_related("candidate")
        .order_by("candidate__person__name_folded", "pk"))
    todo = [e for e in enrolments if results.get(e.candidate_id) and not e.certificate_number]
    passed = [e for e in todo if results[e.candidate_id] == ClassEnrolment.Result.PASSED]
    numbers = _next_certificate_numbers(nfc(number_prefix), len(passed))
    refusals: list[Verdict] = []
    for enrolment in todo:
        enrolment.result = results[enrolment.candidate_id]
        if enrolment.result == ClassEnrolment.Result.PASSED:
            enrolment.certificate_number = numbers.pop(0)
            enrolment.certificate_date = certificate_date
            try:
                candidate_advance(candidate=enrolment.candidate, to_stage=Stage.COURSE_DONE, actor=actor,
                                  data={"certificate_date": certificate_date,
                                        "certificate_number": enrolment.certificate_number,
                                        "awareness_class": awareness_class, "course_result": enrolment.result})
            except RuleRefusal as refusal:
                refusals += [Verdict(v.rule_id, v.ok, v.severity, f"{enrolment.candidate.person.full_name}: {v.message}",
                                     v.source) for v in refusal.verdicts]
        enrolment.save(update_fields=["result", "certificate_number", "certificate_date"])
    if refusals:
        raise RuleRefusal(refusals)
    audit(action="class.results", actor=actor, obj=awareness_class, org=awareness_class.organiser,
          detail={"passed": len(passed), "recorded": len(todo)})
    return len(passed)


# --- stored due dates ------------------------------------------------------------------------------

DUE_FIELDS = [kind.field for kind in deadlines.DEADLINE_KINDS]


@transaction.atomic
def deadlines_refresh(*, candidate_ids: list[int] | None = None, batch: int = 500) -> int:
    """Recompute the stored due dates (e.g. after a holiday correction in the admin). Returns rows changed."""
    from recruitment.workdays import preloaded

    qs = Candidate.objects.exclude(stage__in=EXITS).only("pk", "stage", *DUE_FIELDS, "branch_resolution_date",
                                                         "decision_extended_days", "decision_date", "ceremony_date",
                                                         "certificate_date")
    if candidate_ids is not None:
        qs = qs.filter(pk__in=candidate_ids)
    changed = []
    with preloaded(dt.date(2015, 1, 1), dt.date.today() + dt.timedelta(days=3 * 365)):
        for candidate in qs.iterator(chunk_size=batch):
            fresh = deadlines.due_fields(candidate)
            if any(getattr(candidate, name) != value for name, value in fresh.items()):
                for name, value in fresh.items():
                    setattr(candidate, name, value)
                changed.append(candidate)
    Candidate.objects.bulk_update(changed, DUE_FIELDS, batch_size=batch)
    if changed:
        from quotas.services import pipeline_changed_everywhere

        pipeline_changed_everywhere()
    return len(changed)
