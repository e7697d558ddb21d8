"""The Party's rules for admission (DOMAIN.md §4), one small pure function per rule ID.

Each check returns a `Verdict` naming its rule, whether it passed, how serious a failure is ("error"
refuses the step, "warning" never refuses: deadlines), a Vietnamese explanation naming the field, and
the regulation it encodes. `evaluate()` picks the checks that apply to one step; the browser form, the
workbook importer and the API all go through it (via `recruitment.services`), so a refusal reads the same
everywhere.

Rules are versioned by effective date: a record is judged by the regime in force on its own dates
(`regime_on`). The thresholds have not changed between Regulation 29-QĐ/TW (2016), 24-QĐ/TW (2021),
232-QĐ/TW (1/2025) and 294-QĐ/TW (7/2025); what changed on 1/7/2025 is who decides (the district level
was abolished, commune/ward committees under the province took the authority), and that is data on the
tree (`has_admission_authority`), not code. The source string of every verdict says which regime applied.
"""

import calendar
import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from members.models import EDUCATION_RANK, Education, Introducer
from recruitment.models import PIPELINE, Stage
from recruitment.stages import STAGE_FIELDS
from recruitment.workdays import add_working_days

ERROR = "error"
WARNING = "warning"


@dataclass(frozen=True)
class Verdict:
    rule_id: str
    ok: bool
    severity: str  # "error" refuses the step; "warning" (deadlines) never does
    message: str  # Vietnamese, starts with the rule ID
    source: str  # the regulation it encodes, with the regime that applied

    def as_json(self) -> dict:
        return {"rule_id": self.rule_id, "ok": self.ok, "severity": self.severity, "message": self.message,
                "source": self.source}

    @property
    def refuses(self) -> bool:
        return not self.ok and self.severity == ERROR


@dataclass(frozen=True)
class Regime:
    """The regulation in force from `start`, and the thresholds it sets."""

    start: dt.date
    regulation: str
    guidance: str
    age_min_months: int = 18 * 12
    age_max_months: int = 60 * 12
    certificate_valid_months: int = 60
    introducer_min_months: int = 12
    dossier_valid_months: int = 12
    vote_num: int = 2  # votes for >= 2/3
    vote_den: int = 3
    decision_working_days: int = 60
    recognition_decision_working_days: int = 30
    extension_max_working_days: int = 30
    ceremony_working_days: int = 30
    probation_months: int = 12
    recognition_working_days: int = 30


REGIMES = [
    Regime(dt.date(2016, 7, 25), "Quy định 29-QĐ/TW ngày 25/7/2016", "Hướng dẫn 01-HD/TW ngày 20/9/2016"),
    Regime(dt.date(2021, 7, 30), "Quy định 24-QĐ/TW ngày 30/7/2021", "Hướng dẫn 12-HD/BTCTW (2022)"),
    Regime(dt.date(2025, 1, 20), "Quy định 232-QĐ/TW ngày 20/1/2025", "Hướng dẫn 12-HD/BTCTW (2022)"),
    Regime(dt.date(2025, 7, 1), "Quy định 294-QĐ/TW (hiệu lực 1/7/2025)", "Hướng dẫn 06-HD/TW (2025)"),
]


def regime_on(d: dt.date | None) -> Regime:
    """The regime in force on `d` (the earliest one for dates before it; the newest when no date is known)."""
    if d is None:
        return REGIMES[-1]
    current = REGIMES[0]
    for regime in REGIMES:
        if regime.start <= d:
            current = regime
    return current


def _source(article: str, d: dt.date | None, *, guidance: bool = False) -> str:
    regime = regime_on(d)
    return f"{article}; {regime.regulation}" + (f"; {regime.guidance}" if guidance else "")


# --- small date helpers --------------------------------------------------------------------------


def add_months(d: dt.date, months: int) -> dt.date:
    """Same day `months` later, clamped to the month's end (31/1 + 1 month = 28/2 or 29/2)."""
    total = d.year * 12 + (d.month - 1) + months
    year, month = divmod(total, 12)
    month += 1
    return dt.date(year, month, min(d.day, calendar.monthrange(year, month)[1]))


def age_in_months(birth_date: dt.date, on: dt.date) -> int:
    """Age counted in whole months from the birth month ("tính theo tháng"): the day of month is ignored,
    so someone born in May 2006 is 18 (216 months) on every day of May 2024."""
    return (on.year - birth_date.year) * 12 + (on.month - birth_date.month)


def fmt(d: dt.date | None) -> str:
    return d.strftime("%d/%m/%Y") if d else "(chưa nhập)"


def _years_months(months: int) -> str:
    years, rest = divmod(months, 12)
    return f"{years} tuổi {rest} tháng" if rest else f"{years} tuổi"


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _v(rule_id: str, ok: bool, message: str, source: str, severity: str = ERROR) -> Verdict:
    return Verdict(rule_id=rule_id, ok=ok, severity=severity, message=f"{rule_id}: {message}", source=source)


def field_label(name: str) -> str:
    from recruitment.models import Candidate

    return str(Candidate._meta.get_field(name).verbose_name)


# --- one function per rule ------------------------------------------------------------------------

CHARTER_ART1 = "Điều lệ Đảng, Điều 1 (tuổi đời, trình độ học vấn)"
CHARTER_ART4 = "Điều lệ Đảng, Điều 4 (thủ tục kết nạp, người giới thiệu)"
CHARTER_ART5 = "Điều lệ Đảng, Điều 5 (đảng viên dự bị, công nhận chính thức)"


def check_age_min(*, birth_date: dt.date, on: dt.date | None) -> Verdict:
    source = _source(CHARTER_ART1, on)
    if on is None:
        return _v("R-AGE-MIN", False, "Chưa có ngày nghị quyết chi bộ để tính tuổi.", source)
    months = age_in_months(birth_date, on)
    need = regime_on(on).age_min_months
    if months >= need:
        return _v("R-AGE-MIN", True, f"Ngày sinh {fmt(birth_date)}: ngày {fmt(on)} đã {_years_months(months)}, "
                  "đủ 18 tuổi (tính theo tháng).", source)
    return _v("R-AGE-MIN", False, f"Ngày sinh {fmt(birth_date)}: đến ngày nghị quyết chi bộ {fmt(on)} mới "
              f"{_years_months(months)}, chưa đủ 18 tuổi (tính theo tháng).", source)


def check_age_max(
    *, birth_date: dt.date, on: dt.date | None, approval_date: dt.date | None = None,
    decision_date: dt.date | None = None, at_decision: bool = False,
) -> Verdict:
    """Up to 60 (by months) at the branch's consideration; over 60 needs the provincial committee's written
    approval dated before the decision. At the branch step a missing approval is only a warning: the
    approval is asked for after the branch's resolution."""
    source = _source(CHARTER_ART1, decision_date or on)
    if on is None:
        return _v("R-AGE-MAX", False, "Chưa có ngày nghị quyết chi bộ để tính tuổi.", source)
    months = age_in_months(birth_date, on)
    if months <= regime_on(on).age_max_months:
        return _v("R-AGE-MAX", True, f"Ngày {fmt(on)}: {_years_months(months)}, không quá 60 tuổi (tính theo tháng).",
                  source)
    over = f"Ngày sinh {fmt(birth_date)}: ngày nghị quyết chi bộ {fmt(on)} đã {_years_months(months)}, trên 60 tuổi"
    if approval_date is not None and (decision_date is None or approval_date < decision_date):
        return _v("R-AGE-MAX", True, f"{over}; có văn bản đồng ý của Tỉnh ủy ngày {fmt(approval_date)}.", source)
    if not at_decision:
        return _v("R-AGE-MAX", False, f"{over}: cần văn bản đồng ý của Tỉnh ủy (cấp ủy trực thuộc Trung ương) "
                  "trước khi quyết định kết nạp.", source, WARNING)
    if approval_date is None:
        return _v("R-AGE-MAX", False, f"{over}: chưa có văn bản đồng ý của Tỉnh ủy "
                  f"({field_label('over_age_approval_date')}).", source)
    return _v("R-AGE-MAX", False, f"{over}: văn bản đồng ý của Tỉnh ủy ngày {fmt(approval_date)} không có trước "
              f"ngày quyết định kết nạp {fmt(decision_date)}.", source)


def check_edu(*, education: str, disadvantaged_exception: bool, on: dt.date | None = None) -> Verdict:
    source = _source(CHARTER_ART1, on)
    label = Education(education).label if education in Education.values else (education or "(chưa nhập)")
    if education in EDUCATION_RANK and EDUCATION_RANK[education] >= EDUCATION_RANK[Education.LOWER_SECONDARY]:
        return _v("R-EDU", True, f"Trình độ học vấn: {label}, đạt tốt nghiệp trung học cơ sở trở lên.", source)
    if disadvantaged_exception:
        return _v("R-EDU", True, f"Trình độ học vấn: {label}, thuộc diện ngoại lệ vùng khó khăn.", source)
    return _v("R-EDU", False, f"Trình độ học vấn: {label}, chưa tốt nghiệp trung học cơ sở và không thuộc "
              "diện ngoại lệ vùng khó khăn.", source)


def certificate_expiry(certificate_date: dt.date) -> dt.date:
    """Last day the awareness-course certificate is valid (its 60th-month day)."""
    return add_months(certificate_date, regime_on(certificate_date).certificate_valid_months)


def check_cert_valid(*, certificate_date: dt.date | None, on: dt.date | None) -> Verdict:
    source = _source("Điều lệ Đảng, Điều 4; giấy chứng nhận học lớp bồi dưỡng nhận thức về Đảng (Mẫu CN-NTVĐ)",
                     on, guidance=True)
    if certificate_date is None:
        return _v("R-CERT-VALID", False, "Chưa có giấy chứng nhận học lớp bồi dưỡng nhận thức về Đảng "
                  f"({field_label('certificate_date')}).", source)
    expiry = certificate_expiry(certificate_date)
    if on is None or on <= expiry:
        return _v("R-CERT-VALID", True, f"Giấy chứng nhận ngày {fmt(certificate_date)} còn giá trị đến "
                  f"{fmt(expiry)}.", source)
    return _v("R-CERT-VALID", False, f"Giấy chứng nhận ngày {fmt(certificate_date)} hết giá trị từ sau ngày "
              f"{fmt(expiry)} (60 tháng); ngày nghị quyết chi bộ {fmt(on)}: phải học lại lớp.", source)


def _intro_attr(intro, name: str):
    return intro.get(name) if isinstance(intro, dict) else getattr(intro, name)


def check_introducer(*, introducers: Iterable, on: dt.date | None) -> Verdict:
    """Two official members who have worked or lived with the person >= 12 months, or one such member plus
    a Đoàn / Công đoàn resolution (4-KNĐ). A probationary or too-recent introducer refuses the step."""
    source = _source(CHARTER_ART4, on, guidance=True)
    need_months = regime_on(on).introducer_min_months
    members, unions, problems = [], [], []
    for intro in introducers:
        name = _intro_attr(intro, "name") or "(chưa ghi tên)"
        if _intro_attr(intro, "kind") == Introducer.Kind.UNION_RESOLUTION:
            unions.append(name)
            continue
        if not _intro_attr(intro, "is_official_member"):
            problems.append(f"người giới thiệu {name} là đảng viên dự bị, không được giới thiệu")
        elif (_intro_attr(intro, "months_known") or 0) < need_months:
            problems.append(f"người giới thiệu {name} mới công tác/sinh sống cùng "
                            f"{_intro_attr(intro, 'months_known') or 0} tháng (cần ít nhất {need_months} tháng)")
        else:
            members.append(name)
    if problems:
        return _v("R-INTRODUCER", False, _cap("; ".join(problems)) + ".", source)
    if len(members) >= 2:
        return _v("R-INTRODUCER", True, f"Hai đảng viên chính thức giới thiệu: {', '.join(members)}.", source)
    if members and unions:
        return _v("R-INTRODUCER", True, f"Đảng viên chính thức {members[0]} và nghị quyết giới thiệu của "
                  f"{unions[0]}.", source)
    return _v("R-INTRODUCER", False, "Thiếu người giới thiệu: cần hai đảng viên chính thức, hoặc một đảng viên "
              "chính thức và nghị quyết giới thiệu của Đoàn / Công đoàn (mẫu 3-KNĐ, 4-KNĐ).", source)


def check_dossier_stale(*, introducers: Iterable, opinions_date: dt.date | None, on: dt.date | None) -> Verdict:
    source = _source(CHARTER_ART4, on, guidance=True)
    if on is None:
        return _v("R-DOSSIER-STALE", True, "Chưa có ngày nghị quyết chi bộ.", source)
    months = regime_on(on).dossier_valid_months
    stale = []
    for intro in introducers:
        when = _intro_attr(intro, "introduced_on")
        if when is not None and add_months(when, months) < on:
            stale.append(f"giấy giới thiệu của {_intro_attr(intro, 'name')} ngày {fmt(when)}")
    if opinions_date is None:
        return _v("R-DOSSIER-STALE", False, "Chưa có tổng hợp nhận xét của đoàn thể và nơi cư trú "
                  f"({field_label('opinions_date')}).", source)
    if add_months(opinions_date, months) < on:
        stale.append(f"tổng hợp ý kiến (5-KNĐ) ngày {fmt(opinions_date)}")
    if stale:
        return _v("R-DOSSIER-STALE", False, f"Quá 12 tháng đến ngày nghị quyết chi bộ {fmt(on)}, phải làm lại: "
                  + "; ".join(stale) + ".", source)
    return _v("R-DOSSIER-STALE", True, f"Giấy giới thiệu và ý kiến còn trong 12 tháng tính đến {fmt(on)}.", source)


def _two_thirds(votes_for: int, total: int, on: dt.date | None) -> bool:
    regime = regime_on(on)
    return votes_for * regime.vote_den >= total * regime.vote_num


def check_vote_branch(*, votes_for: int | None, summoned: int | None, on: dt.date | None,
                      recognition: bool = False) -> Verdict:
    article = CHARTER_ART5 if recognition else CHARTER_ART4
    source = _source(article, on)
    what = "công nhận chính thức" if recognition else "kết nạp"
    f_votes, f_total = (("recognition_votes_for", "recognition_members_summoned") if recognition
                        else ("branch_votes_for", "branch_members_summoned"))
    if votes_for is None or not summoned:
        return _v("R-VOTE-BRANCH", False, f"Chưa nhập {field_label(f_votes)} và {field_label(f_total)}.", source)
    if votes_for > summoned:
        return _v("R-VOTE-BRANCH", False, f"{_cap(field_label(f_votes))} ({votes_for}) lớn hơn "
                  f"{field_label(f_total)} ({summoned}).", source)
    if _two_thirds(votes_for, summoned, on):
        return _v("R-VOTE-BRANCH", True, f"{votes_for}/{summoned} đảng viên chính thức tán thành {what}: "
                  "đạt ít nhất 2/3.", source)
    return _v("R-VOTE-BRANCH", False, f"{votes_for}/{summoned} đảng viên chính thức tán thành {what}: "
              "chưa đạt 2/3 số đảng viên chính thức được triệu tập.", source)


def check_vote_base(*, votes_for: int | None, members: int | None, on: dt.date | None) -> Verdict:
    source = _source(CHARTER_ART4, on)
    if votes_for is None or not members:
        return _v("R-VOTE-BASE", False, f"Chưa nhập {field_label('base_votes_for')} và "
                  f"{field_label('base_committee_members')}.", source)
    if votes_for > members:
        return _v("R-VOTE-BASE", False, f"Số phiếu tán thành ({votes_for}) lớn hơn số cấp ủy viên ({members}).",
                  source)
    if _two_thirds(votes_for, members, on):
        return _v("R-VOTE-BASE", True, f"{votes_for}/{members} cấp ủy viên tán thành: đạt ít nhất 2/3.", source)
    return _v("R-VOTE-BASE", False, f"{votes_for}/{members} cấp ủy viên tán thành: chưa đạt 2/3 số cấp ủy viên.",
              source)


def check_authority(*, deciding_org, branch, on: dt.date | None, recognition: bool = False) -> Verdict:
    """Only a node whose committee holds the authority, and which stands above the person's branch."""
    source = _source("Điều lệ Đảng, Điều 4 và Điều 5 (thẩm quyền kết nạp, công nhận đảng viên chính thức)", on)
    what = "công nhận đảng viên chính thức" if recognition else "kết nạp"
    if deciding_org is None:
        return _v("R-AUTHORITY", False, f"Chưa chọn {field_label('deciding_org')}.", source)
    if not deciding_org.has_admission_authority:
        return _v("R-AUTHORITY", False, f"{deciding_org.name} không có thẩm quyền quyết định {what}.", source)
    above = branch.path.startswith(deciding_org.path) and branch.path != deciding_org.path
    if not above:
        return _v("R-AUTHORITY", False, f"{deciding_org.name} không phải cấp ủy cấp trên của {branch.name}.", source)
    return _v("R-AUTHORITY", True, f"{deciding_org.name} có thẩm quyền quyết định {what} đối với {branch.name}.",
              source)


def decision_due_date(resolution_date: dt.date, *, extended_days: int = 0, recognition: bool = False) -> dt.date:
    regime = regime_on(resolution_date)
    days = regime.recognition_decision_working_days if recognition else regime.decision_working_days
    return add_working_days(resolution_date, days + min(extended_days or 0, regime.extension_max_working_days))


def check_decision_due(*, resolution_date: dt.date | None, decision_date: dt.date | None, extended_days: int = 0,
                       recognition: bool = False) -> Verdict:
    source = _source("Điều lệ Đảng, Điều 4; thời hạn xem xét, quyết định", resolution_date, guidance=True)
    regime = regime_on(resolution_date)
    days = regime.recognition_decision_working_days if recognition else regime.decision_working_days
    if extended_days and extended_days > regime.extension_max_working_days:
        return _v("R-DECISION-DUE", False, f"Gia hạn {extended_days} ngày làm việc: chỉ được gia hạn một lần, "
                  f"tối đa {regime.extension_max_working_days} ngày làm việc.", source, WARNING)
    if resolution_date is None or decision_date is None:
        return _v("R-DECISION-DUE", True, "Chưa đủ ngày để tính thời hạn quyết định.", source, WARNING)
    due = decision_due_date(resolution_date, extended_days=extended_days, recognition=recognition)
    extra = f" (đã gia hạn {extended_days} ngày)" if extended_days else ""
    if decision_date <= due:
        return _v("R-DECISION-DUE", True, f"Quyết định ngày {fmt(decision_date)} trong thời hạn {days} ngày làm việc"
                  f"{extra} kể từ nghị quyết chi bộ ngày {fmt(resolution_date)} (hạn {fmt(due)}).", source, WARNING)
    return _v("R-DECISION-DUE", False, f"Quyết định ngày {fmt(decision_date)} quá thời hạn {days} ngày làm việc"
              f"{extra} kể từ nghị quyết chi bộ ngày {fmt(resolution_date)} (hạn {fmt(due)}).", source, WARNING)


def ceremony_due_date(decision_date: dt.date) -> dt.date:
    return add_working_days(decision_date, regime_on(decision_date).ceremony_working_days)


def check_ceremony_due(*, decision_date: dt.date | None, ceremony_date: dt.date | None) -> Verdict:
    source = _source(CHARTER_ART4 + "; tổ chức lễ kết nạp", decision_date, guidance=True)
    if decision_date is None or ceremony_date is None:
        return _v("R-CEREMONY-DUE", True, "Chưa đủ ngày để tính thời hạn tổ chức lễ kết nạp.", source, WARNING)
    due = ceremony_due_date(decision_date)
    if ceremony_date <= due:
        return _v("R-CEREMONY-DUE", True, f"Lễ kết nạp ngày {fmt(ceremony_date)} trong 30 ngày làm việc kể từ "
                  f"quyết định ngày {fmt(decision_date)} (hạn {fmt(due)}).", source, WARNING)
    return _v("R-CEREMONY-DUE", False, f"Lễ kết nạp ngày {fmt(ceremony_date)} quá 30 ngày làm việc kể từ "
              f"quyết định ngày {fmt(decision_date)} (hạn {fmt(due)}).", source, WARNING)


def probation_end(ceremony_date: dt.date) -> dt.date:
    """Probation runs 12 months from the ceremony; recognition takes effect on this day."""
    return add_months(ceremony_date, regime_on(ceremony_date).probation_months)


def check_probation(*, ceremony_date: dt.date | None, consideration_date: dt.date | None,
                    decision_date: dt.date | None = None, effective_date: dt.date | None = None,
                    today: dt.date | None = None) -> Verdict:
    """Recognition considered and decided only after 12 months of probation. `effective_date`, when a
    source states one (the workbook's "Ngày công nhận chính thức"), must be the end of probation."""
    source = _source(CHARTER_ART5, ceremony_date)
    if ceremony_date is None:
        return _v("R-PROBATION", False, f"Chưa có {field_label('ceremony_date')}: chưa tính được thời gian dự bị.",
                  source)
    end = probation_end(ceremony_date)
    early = [(label, d) for label, d in (("nghị quyết chi bộ xét công nhận", consideration_date),
                                         ("quyết định công nhận", decision_date), ("hôm nay", today))
             if d is not None and d < end]
    if early:
        label, d = early[0]
        return _v("R-PROBATION", False, f"Thời gian dự bị 12 tháng kể từ lễ kết nạp {fmt(ceremony_date)} đến hết "
                  f"ngày {fmt(end)}; {label} ngày {fmt(d)} là trước khi hết thời gian dự bị.", source)
    if effective_date is not None and effective_date != end:
        return _v("R-PROBATION", False, f"Ngày công nhận chính thức ghi {fmt(effective_date)}, nhưng theo Điều lệ "
                  f"công nhận có hiệu lực từ ngày hết 12 tháng dự bị: {fmt(end)} (lễ kết nạp {fmt(ceremony_date)}).",
                  source)
    return _v("R-PROBATION", True, f"Hết 12 tháng dự bị ngày {fmt(end)}: công nhận chính thức có hiệu lực từ ngày "
              f"{fmt(end)}, dù quyết định ký ngày nào.", source)


def recognition_due_date(end_of_probation: dt.date) -> dt.date:
    return add_working_days(end_of_probation, regime_on(end_of_probation).recognition_working_days)


def check_recognition_due(*, probation_end_date: dt.date | None, consideration_date: dt.date | None) -> Verdict:
    source = _source(CHARTER_ART5, probation_end_date, guidance=True)
    if probation_end_date is None or consideration_date is None:
        return _v("R-RECOGNITION-DUE", True, "Chưa đủ ngày để tính thời hạn xét công nhận.", source, WARNING)
    due = recognition_due_date(probation_end_date)
    if consideration_date <= due:
        return _v("R-RECOGNITION-DUE", True, f"Chi bộ xét công nhận ngày {fmt(consideration_date)}, trong 30 ngày "
                  f"làm việc sau khi hết dự bị ({fmt(probation_end_date)}, hạn {fmt(due)}).", source, WARNING)
    return _v("R-RECOGNITION-DUE", False, f"Chi bộ xét công nhận ngày {fmt(consideration_date)}, quá 30 ngày làm "
              f"việc sau khi hết dự bị ({fmt(probation_end_date)}, hạn {fmt(due)}).", source, WARNING)


# Which exits are possible from which stage.
EXIT_FROM = {
    Stage.REMOVED: {Stage.OUTSTANDING, Stage.SYMPATHISER, Stage.COURSE_DONE, Stage.DOSSIER,
                    Stage.BRANCH_RESOLUTION, Stage.BASE_RESOLUTION},
    Stage.NOT_ADMITTED: {Stage.DOSSIER, Stage.BRANCH_RESOLUTION, Stage.BASE_RESOLUTION},
    Stage.STRUCK_OFF: {Stage.ADMITTED, Stage.PROBATIONARY},
}

# Milestone dates in the order they must happen; approval of the over-60 case is checked by R-AGE-MAX.
ORDER_DATES: dict[str, list[str]] = {
    stage: [f for f in STAGE_FIELDS[stage] if f.endswith("_date") and f != "over_age_approval_date"]
    for stage in PIPELINE
}
# Within these steps the listed dates follow each other too (resolution before decision, ceremony before course).
SEQUENCED_WITHIN = {Stage.PROBATIONARY, Stage.FULL_MEMBER}


def next_stage(stage: str, *, skips_base: bool) -> str | None:
    if stage not in PIPELINE or stage == Stage.FULL_MEMBER:
        return None
    nxt = PIPELINE[PIPELINE.index(stage) + 1]
    if nxt == Stage.BASE_RESOLUTION and skips_base:
        nxt = Stage.ADMITTED
    return nxt


def check_order(
    *, from_stage: str, to_stage: str, skips_base: bool, step_dates: list[tuple[str, dt.date | None]],
    previous: tuple[str, dt.date] | None, today: dt.date, allow_missing_date: bool = False,
) -> Verdict:
    """Stages in order, dates never backwards (nor in the future). `step_dates`: (field, value) of the step;
    `previous`: the latest earlier milestone (field, date)."""
    step_day = next((value for _name, value in step_dates if value is not None), None)
    source = "Điều lệ Đảng, Điều 4 (trình tự kết nạp); " + regime_on(step_day or today).regulation
    stage_label = Stage(to_stage).label
    if to_stage in EXIT_FROM:
        if from_stage not in EXIT_FROM[to_stage]:
            return _v("R-ORDER", False, f"Không thể chuyển sang “{stage_label}” từ giai đoạn "
                      f"“{Stage(from_stage).label}”.", source)
    else:
        expected = next_stage(from_stage, skips_base=skips_base)
        if expected != to_stage:
            if to_stage == Stage.BASE_RESOLUTION and skips_base:
                why = "chi bộ cơ sở không có bước đảng ủy cơ sở đề nghị"
            elif expected is None:
                why = f"giai đoạn hiện tại “{Stage(from_stage).label}” không còn bước tiếp theo"
            else:
                why = f"bước tiếp theo phải là “{Stage(expected).label}”"
            return _v("R-ORDER", False, f"Không thể ghi nhận “{stage_label}” lúc này: {why}.", source)
    problems = []
    latest = previous
    for name, value in step_dates:
        if value is None:
            if not allow_missing_date and name == step_dates[0][0]:
                problems.append(f"chưa nhập {field_label(name)}")
            continue
        if value > today:
            problems.append(f"{field_label(name)} {fmt(value)} sau ngày hôm nay ({fmt(today)})")
        if latest is not None and value < latest[1]:
            problems.append(f"{field_label(name)} {fmt(value)} trước {field_label(latest[0])} {fmt(latest[1])}")
        if to_stage in SEQUENCED_WITHIN:
            latest = (name, value)
    if problems:
        return _v("R-ORDER", False, _cap("; ".join(problems)) + ".", source)
    return _v("R-ORDER", True, f"Đúng trình tự: “{stage_label}” sau “{Stage(from_stage).label}”.", source)


# --- choosing the rules of one step ---------------------------------------------------------------

# Rules whose data a workbook row cannot carry; the importer skips them (the record shows what's missing).
SHEET_CANNOT_CARRY = frozenset({"R-INTRODUCER", "R-DOSSIER-STALE"})


def latest_milestone(candidate, *, before: str) -> tuple[str, dt.date] | None:
    """The latest milestone (field, date) recorded on `candidate` for the stages before `before`."""
    return _latest_previous(lambda name: getattr(candidate, name, None), before)


def _latest_previous(values, to_stage: str) -> tuple[str, dt.date] | None:
    upto = PIPELINE if to_stage not in PIPELINE else PIPELINE[: PIPELINE.index(to_stage)]
    latest = None
    for stage in upto:
        for name in ORDER_DATES[stage] + (["opinions_date"] if stage == Stage.DOSSIER else []):
            value = values(name)
            if value is not None and (latest is None or value > latest[1]):
                latest = (name, value)
    return latest


def evaluate(*, candidate, person, to_stage: str, data: dict, today: dt.date | None = None,
             partial: bool = False) -> list[Verdict]:
    """Every rule that applies to moving `candidate` to `to_stage` with the step's `data` (Candidate field
    names of STAGE_FIELDS, typed values; optionally "introducers": a list of dicts or Introducer rows that
    replace the stored ones). Reads only. `partial=True` is the importer's mode: rules in
    SHEET_CANNOT_CARRY are skipped and the dossier step may come without dates."""
    today = today or dt.date.today()

    def values(name: str):
        return data[name] if name in data else getattr(candidate, name, None)

    branch = candidate.org
    skips_base = branch.is_chi_bo_co_so
    step_dates = [(name, values(name)) for name in ORDER_DATES.get(to_stage, ["exit_date"])]
    verdicts = [check_order(
        from_stage=candidate.stage, to_stage=to_stage, skips_base=skips_base, step_dates=step_dates,
        previous=_latest_previous(values, to_stage), today=today,
        allow_missing_date=partial and to_stage in (Stage.DOSSIER, Stage.FULL_MEMBER),
    )]

    def introducers():
        if "introducers" in data:
            return list(data["introducers"])
        return list(person.introducers.all()) if person.pk else []

    resolution = values("branch_resolution_date")
    if to_stage == Stage.DOSSIER:
        verdicts.append(check_edu(education=person.education, disadvantaged_exception=person.disadvantaged_area_exception,
                                  on=values("application_date")))
    elif to_stage == Stage.BRANCH_RESOLUTION:
        verdicts.append(check_age_min(birth_date=person.birth_date, on=resolution))
        verdicts.append(check_age_max(birth_date=person.birth_date, on=resolution,
                                      approval_date=values("over_age_approval_date")))
        verdicts.append(check_cert_valid(certificate_date=values("certificate_date"), on=resolution))
        if not partial:
            intros = introducers()
            verdicts.append(check_introducer(introducers=intros, on=resolution))
            verdicts.append(check_dossier_stale(introducers=intros, opinions_date=values("opinions_date"), on=resolution))
        verdicts.append(check_vote_branch(votes_for=values("branch_votes_for"),
                                          summoned=values("branch_members_summoned"), on=resolution))
    elif to_stage == Stage.BASE_RESOLUTION:
        verdicts.append(check_vote_base(votes_for=values("base_votes_for"), members=values("base_committee_members"),
                                        on=values("base_resolution_date")))
    elif to_stage == Stage.ADMITTED:
        decision = values("decision_date")
        verdicts.append(check_age_max(birth_date=person.birth_date, on=resolution,
                                      approval_date=values("over_age_approval_date"), decision_date=decision,
                                      at_decision=True))
        verdicts.append(check_authority(deciding_org=values("deciding_org"), branch=branch, on=decision))
        verdicts.append(check_decision_due(resolution_date=resolution, decision_date=decision,
                                           extended_days=values("decision_extended_days") or 0))
    elif to_stage == Stage.PROBATIONARY:
        verdicts.append(check_ceremony_due(decision_date=values("decision_date"), ceremony_date=values("ceremony_date")))
    elif to_stage == Stage.FULL_MEMBER:
        ceremony = values("ceremony_date")
        consideration = values("recognition_branch_resolution_date")
        verdicts.append(check_probation(ceremony_date=ceremony, consideration_date=consideration,
                                        decision_date=values("recognition_decision_date"),
                                        effective_date=data.get("recognition_date"), today=today))
        if not (partial and values("recognition_votes_for") is None):  # the sheet has no vote columns
            verdicts.append(check_vote_branch(votes_for=values("recognition_votes_for"),
                                              summoned=values("recognition_members_summoned"), on=consideration,
                                              recognition=True))
        verdicts.append(check_recognition_due(probation_end_date=probation_end(ceremony) if ceremony else None,
                                              consideration_date=consideration))
        verdicts.append(check_decision_due(resolution_date=consideration,
                                           decision_date=values("recognition_decision_date"), recognition=True))
        if values("recognition_deciding_org") is not None:  # optional field: checked when recorded
            verdicts.append(check_authority(deciding_org=values("recognition_deciding_org"), branch=branch,
                                            on=values("recognition_decision_date"), recognition=True))
    return verdicts


def refusals(verdicts: Iterable[Verdict]) -> list[Verdict]:
    return [v for v in verdicts if v.refuses]
