"""Workbook import: read the four sheets, apply them through the owning apps' services, all or nothing.

Every row goes through the same service the browser uses (orgs.services, quotas.services.quota_set,
recruitment.services.candidate_apply_row), so a row is refused by the same rule with the same message.
Rows are applied inside one transaction, each in its own savepoint so that one bad row does not hide
the next one's error; if any row failed (or on a dry run) the whole transaction is rolled back.
HoSo rows of people not in the system yet go all at once through recruitment.services.candidates_create_from_rows
(the same rules and steps, bulk writes).
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable
from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DatabaseError, transaction
from openpyxl import load_workbook
from openpyxl.comments import Comment
from openpyxl.styles import Font, PatternFill

from core.text import fold
from orgs.models import OrgUnit, OrgYearStat
from orgs.selectors import user_root_path
from orgs.services import members_start_set, org_create, org_move, org_update
from reports.workbook import (
    HOSO,
    MEMBERS,
    MILESTONE_KEYS,
    PERSON_KEYS,
    QUOTAS,
    SHEETS,
    TOCHUC,
    CellError,
    ParsedRow,
    Sheet,
    header_key,
    header_map,
    parse_cell,
)

Progress = Callable[[int, str], None]

# Which column a refusing rule points at when its verdict does not name one itself.
RULE_COLUMNS = {
    "R-AGE-MIN": "birth_date",
    "R-AGE-MAX": "birth_date",
    "R-EDU": "education",
    "R-CERT-VALID": "certificate_date",
    "R-VOTE-BRANCH": "branch_votes_for",
    "R-VOTE-BASE": "base_votes_for",
    "R-AUTHORITY": "deciding_org_code",
    "R-PROBATION": "recognition_date",
    "R-ORDER": "decision_date",
    "R-DECISION-DUE": "decision_date",
    "R-CEREMONY-DUE": "ceremony_date",
}


@dataclass
class RowError:
    sheet: str
    row: int
    column: str  # the column's header as the template spells it ("" when the whole row is at fault)
    rule_id: str
    message: str
    col_index: int | None = None  # 1-based, for marking the cell

    def line(self) -> str:
        return "\t".join([self.sheet, str(self.row), self.column or "-", self.rule_id, self.message])


@dataclass
class ImportResult:
    dry_run: bool
    errors: list[RowError] = field(default_factory=list)
    warnings: list[RowError] = field(default_factory=list)
    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    years: set[int] = field(default_factory=set)
    rows: int = 0

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def changed(self) -> int:
        return sum(c.get("created", 0) + c.get("updated", 0) for c in self.counts.values())

    def count(self, sheet: str, what: str) -> None:
        bucket = self.counts.setdefault(sheet, {"created": 0, "updated": 0, "unchanged": 0})
        bucket[what] = bucket.get(what, 0) + 1

    def as_dict(self) -> dict:
        return {
            "ok": self.ok,
            "dry_run": self.dry_run,
            "rows": self.rows,
            "counts": {s.name: self.counts[s.name] for s in SHEETS if s.name in self.counts},
            "errors": [e.__dict__ for e in self.errors],
            "warnings": [w.__dict__ for w in self.warnings[:500]],
            "years": sorted(self.years),
        }


class _RowFailed(Exception):
    def __init__(self, errors: list[RowError]):
        super().__init__(errors[0].message if errors else "")
        self.errors = errors


class _Rollback(Exception):
    """Raised at the end of the transaction to undo everything (errors or dry run)."""


# ---------------------------------------------------------------------------------------------------------
# Reading


def read_rows(workbook_bytes: bytes, result: ImportResult) -> dict[str, list[ParsedRow]]:
    """Parse every known sheet; cell errors go to `result.errors`, their rows are left out."""
    try:
        wb = load_workbook(io.BytesIO(workbook_bytes), data_only=True, read_only=True)
    except Exception as exc:  # noqa: BLE001 - openpyxl raises many kinds for a file that is not xlsx
        result.errors.append(RowError("", 0, "", "IMP-FILE", f"Không đọc được tệp Excel (.xlsx): {exc.__class__.__name__}"))
        return {}
    parsed: dict[str, list[ParsedRow]] = {}
    by_folded = {header_key(name): name for name in wb.sheetnames}
    for sheet in SHEETS:
        actual = by_folded.get(header_key(sheet.name))
        if actual is None:
            continue
        rows = wb[actual].iter_rows(values_only=True)
        header = next(rows, None)
        if header is None:
            continue
        found, missing = header_map(sheet, header)
        for header_text in missing:
            result.errors.append(RowError(sheet.name, 1, header_text, "IMP-HEADER", f"Thiếu cột “{header_text}”"))
        if missing:
            continue
        out = parsed[sheet.name] = []
        for number, values in enumerate(rows, start=2):
            if values is None or all(v is None or (isinstance(v, str) and not v.strip()) for v in values):
                continue
            result.rows += 1
            row = ParsedRow(sheet.name, number, {}, {k: i + 1 for k, i in found.items()})
            bad = False
            for column in sheet.columns:
                index = found.get(column.key)
                raw = values[index] if index is not None and index < len(values) else None
                try:
                    row.values[column.key] = parse_cell(column, raw)
                except CellError as exc:
                    bad = True
                    result.errors.append(
                        RowError(sheet.name, number, column.header, exc.rule_id, exc.message, row.columns.get(column.key))
                    )
            if not bad and _extra_checks(sheet, row, result):
                out.append(row)
    wb.close()
    _check_duplicates(parsed, result)
    return parsed


def _extra_checks(sheet: Sheet, row: ParsedRow, result: ImportResult) -> bool:
    if sheet is HOSO:
        cccd = row.values.get("cccd") or ""
        if cccd and (len(cccd) != 12 or not cccd.isdigit()):
            result.errors.append(_err(row, HOSO, "cccd", "IMP-CCCD", "Số CCCD phải gồm đúng 12 chữ số"))
            return False
    return True


def _check_duplicates(parsed: dict[str, list[ParsedRow]], result: ImportResult) -> None:
    keys = {TOCHUC.name: ("code",), MEMBERS.name: ("org_code", "year"), QUOTAS.name: ("org_code", "year"), HOSO.name: ("code",)}
    for sheet in SHEETS:
        rows = parsed.get(sheet.name)
        if not rows:
            continue
        seen: dict[tuple, int] = {}
        kept = []
        for row in rows:
            key = tuple(row.values[k] for k in keys[sheet.name])
            if key in seen:
                result.errors.append(
                    _err(row, sheet, keys[sheet.name][0], "IMP-DUPLICATE", f"Trùng với dòng {seen[key]} của cùng trang")
                )
                continue
            seen[key] = row.row
            kept.append(row)
        parsed[sheet.name] = kept


def _err(row: ParsedRow, sheet: Sheet, key: str | None, rule_id: str, message: str) -> RowError:
    header = sheet.column(key).header if key else ""
    return RowError(sheet.name, row.row, header, rule_id, message, row.columns.get(key) if key else None)


# ---------------------------------------------------------------------------------------------------------
# Applying


class _Context:
    def __init__(self, actor, result: ImportResult):
        self.actor = actor
        self.result = result
        # "" = the whole tree (the management command); None = nothing (a user without a node)
        self.root_path = user_root_path(actor) if actor is not None else ""

        self._orgs: dict[str, OrgUnit | None] = {}

    def in_scope(self, org: OrgUnit) -> bool:
        return self.root_path is not None and org.path.startswith(self.root_path)

    def preload_orgs(self, codes: set[str]) -> None:
        """Look up many codes in one query (the HoSo sheet names the same branches over and over).
        Only once the tree sheet is applied: its rows create and move nodes."""
        found = {org.code: org for org in OrgUnit.objects.filter(code__in=codes)}
        self._orgs.update({code: found.get(code) for code in codes})

    def org_by_code(self, code: str) -> OrgUnit | None:
        if code not in self._orgs:
            self._orgs[code] = OrgUnit.objects.filter(code=code).first()
        return self._orgs[code]

    def org(self, code: str, row: ParsedRow, sheet: Sheet, key: str) -> OrgUnit:
        org = self.org_by_code(code) if sheet is HOSO else OrgUnit.objects.filter(code=code).first()
        if org is None:
            raise _RowFailed([_err(row, sheet, key, "IMP-ORG", f"Không có tổ chức mã “{code}”")])
        if not self.in_scope(org):
            raise _RowFailed([_err(row, sheet, key, "IMP-SCOPE", f"Tổ chức “{code}” nằm ngoài phạm vi được giao")])
        return org


def _apply_row(ctx: _Context, row: ParsedRow, apply: Callable[[_Context, ParsedRow], str], sheet: Sheet) -> None:
    try:
        with transaction.atomic():
            outcome = apply(ctx, row)
    except _RowFailed as exc:
        ctx.result.errors.extend(exc.errors)
        return
    except PermissionDenied as exc:
        ctx.result.errors.append(RowError(sheet.name, row.row, "", "IMP-SCOPE", str(exc)))
        return
    except (ValidationError, ValueError, DatabaseError) as exc:
        message = "; ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
        ctx.result.errors.append(RowError(sheet.name, row.row, "", "IMP-DATA", message or exc.__class__.__name__))
        return
    ctx.result.count(sheet.name, outcome)


def _apply_org(ctx: _Context, row: ParsedRow) -> str:
    v = row.values
    existing = OrgUnit.objects.filter(code=v["code"]).first()
    if existing is not None and not ctx.in_scope(existing):
        raise _RowFailed([_err(row, TOCHUC, "code", "IMP-SCOPE", f"Tổ chức “{v['code']}” nằm ngoài phạm vi được giao")])
    current_parent = OrgUnit.objects.get_parent(existing) if existing is not None else None
    if existing is not None and current_parent is not None and current_parent.code == v["parent_code"]:
        # The row restates where a node already is: its parent may lie above the user's subtree.
        parent = current_parent
    elif v["parent_code"]:
        parent = ctx.org(v["parent_code"], row, TOCHUC, "parent_code")
    else:
        parent = None
    if parent is None and ctx.root_path != "":
        raise _RowFailed([_err(row, TOCHUC, "parent_code", "IMP-SCOPE", "Chỉ quản trị hệ thống được tạo tổ chức gốc")])
    if existing is None:
        org_create(
            code=v["code"], name=v["name"], kind=v["kind"], parent=parent, sector=v["sector"],
            has_admission_authority=v["has_admission_authority"], actor=ctx.actor,
        )
        return "created"
    outcome = "unchanged"
    if parent is not None and (current_parent is None or current_parent.pk != parent.pk):
        existing = org_move(org=existing, new_parent=parent, effective_date=dt.date.today(), actor=ctx.actor,
                            note="Nhập từ Excel")
        outcome = "updated"
    wanted = {"name": v["name"], "kind": v["kind"], "sector": v["sector"],
              "has_admission_authority": v["has_admission_authority"]}
    if org_update(org=existing, fields=wanted, actor=ctx.actor, source="import"):
        outcome = "updated"
    return outcome


def _apply_members(ctx: _Context, row: ParsedRow) -> str:
    v = row.values
    org = ctx.org(v["org_code"], row, MEMBERS, "org_code")
    current = OrgYearStat.objects.filter(org=org, year=v["year"]).values_list("members_start", flat=True).first()
    ctx.result.years.add(v["year"])
    if current == v["members"]:
        return "unchanged"
    members_start_set(org=org, year=v["year"], members=v["members"])
    return "created" if current is None else "updated"


def _apply_quota(ctx: _Context, row: ParsedRow) -> str:
    from quotas.models import Quota
    from quotas.services import quota_set

    v = row.values
    org = ctx.org(v["org_code"], row, QUOTAS, "org_code")
    source_quota = v["source_quota"] or 0
    current = Quota.objects.filter(org=org, year=v["year"]).first()
    ctx.result.years.add(v["year"])
    if current and current.admission_quota == v["admission_quota"] and current.source_quota == source_quota:
        return "unchanged"
    quota_set(org=org, year=v["year"], admission_quota=v["admission_quota"], source_quota=source_quota,
              actor=ctx.actor, reason="Nhập từ Excel")
    return "updated" if current else "created"


def _person_data(values: dict) -> dict:
    data = {key: values[key] for key in PERSON_KEYS}
    data["cccd"] = data["cccd"] or None
    for key, default in (("ethnicity", "Kinh"), ("religion", "Không"), ("nominating_org", "")):
        data[key] = data[key] or default
    return data


def _milestones(ctx: _Context, row: ParsedRow) -> dict:
    """The row's milestone values, keyed as the recruitment services take them (deciding org resolved)."""
    v = row.values
    milestones = {key: v[key] for key in MILESTONE_KEYS if v[key] not in (None, "")}
    if v["deciding_org_code"]:
        deciding = ctx.org_by_code(v["deciding_org_code"])
        if deciding is None:
            raise _RowFailed([_err(row, HOSO, "deciding_org_code", "IMP-ORG",
                                   f"Không có tổ chức mã “{v['deciding_org_code']}”")])
        milestones["deciding_org"] = deciding
    for key in ("decision_date", "recognition_date", "sympathiser_date"):
        if v[key]:
            ctx.result.years.add(v[key].year)
    return milestones


def _candidate_errors(row: ParsedRow, exc: Exception) -> list[RowError]:
    """What a refused HoSo row shows: each failing rule on its column, or the service's message."""
    from recruitment.services import RuleRefusal

    if isinstance(exc, RuleRefusal):
        errors = [_verdict_error(row, verdict) for verdict in exc.verdicts
                  if not verdict.ok and getattr(verdict, "severity", "error") == "error"]
        return errors or [_err(row, HOSO, None, "IMP-RULE", str(exc))]
    if isinstance(exc, PermissionDenied):
        return [RowError(HOSO.name, row.row, "", "IMP-SCOPE", str(exc))]
    message = "; ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
    return [RowError(HOSO.name, row.row, "", "IMP-DATA", message or exc.__class__.__name__)]


def _apply_candidate(ctx: _Context, row: ParsedRow) -> str:
    """A row for a person already in the system: through `candidate_apply_row`, as the browser would."""
    from recruitment.services import RuleRefusal, candidate_apply_row

    v = row.values
    branch = ctx.org(v["branch_code"], row, HOSO, "branch_code")
    milestones = _milestones(ctx, row)
    before = _candidate_fingerprint(v["code"])
    try:
        candidate, verdicts = candidate_apply_row(
            person_data=_person_data(v), milestones=milestones, branch=branch, actor=ctx.actor, source="import"
        )
    except RuleRefusal as refusal:
        raise _RowFailed(_candidate_errors(row, refusal)) from None
    _warn(ctx, row, verdicts)
    if before is None:
        return "created"
    return "unchanged" if _candidate_fingerprint(v["code"]) == before else "updated"


def _warn(ctx: _Context, row: ParsedRow, verdicts) -> None:
    for verdict in verdicts:
        if not verdict.ok:
            ctx.result.warnings.append(_verdict_error(row, verdict))


def _apply_new_candidates(ctx: _Context, rows: list[ParsedRow], *, write: bool, tick: Callable[[int], None]) -> None:
    """Rows for people not in the system yet, all at once through `candidates_create_from_rows` (the same rules
    and fields as one by one, written in bulk: a province's 20,000 rows in seconds rather than half an hour)."""
    from recruitment.services import NewRow, candidates_create_from_rows

    accepted: list[tuple[ParsedRow, NewRow]] = []
    for row in rows:
        try:
            branch = ctx.org(row.values["branch_code"], row, HOSO, "branch_code")
            accepted.append((row, NewRow(person_data=_person_data(row.values), milestones=_milestones(ctx, row),
                                         branch=branch)))
        except _RowFailed as exc:
            ctx.result.errors.extend(exc.errors)
    try:
        with transaction.atomic():
            outcomes = candidates_create_from_rows(rows=[new for _, new in accepted], actor=ctx.actor, source="import",
                                                   write=write, progress=tick)
    except DatabaseError as exc:  # a CCCD or code taken meanwhile by someone else: the constraint has the last word
        ctx.result.errors.append(RowError(HOSO.name, 0, "", "IMP-DATA", str(exc).splitlines()[0]))
        return
    for (row, _), outcome in zip(accepted, outcomes, strict=True):
        if outcome.error is not None:
            ctx.result.errors.extend(_candidate_errors(row, outcome.error))
            continue
        _warn(ctx, row, outcome.verdicts)
        ctx.result.count(HOSO.name, "created")


def _candidate_fingerprint(code: str) -> tuple | None:
    from recruitment.models import Candidate

    row = (
        Candidate.objects.filter(person__code=code)
        .values_list("version", "person__version", "stage")
        .first()
    )
    return row


def _verdict_error(row: ParsedRow, verdict) -> RowError:
    source = getattr(verdict, "source", "") or ""
    key = None
    for column in HOSO.columns:
        if source in (column.key, column.header) or (source and header_key(source) == header_key(column.header)):
            key = column.key
            break
    if key is None and source == "deciding_org":
        key = "deciding_org_code"
    if key is None and verdict.rule_id == "R-ORDER":
        key = _column_named_in(verdict.message)
    if key is None:
        key = RULE_COLUMNS.get(verdict.rule_id)
    return _err(row, HOSO, key, verdict.rule_id, verdict.message)


def _column_named_in(message: str) -> str | None:
    """R-ORDER names the milestone it disagrees with by its field label: point at that column."""
    from recruitment.models import Candidate

    folded = fold(message)
    best = None
    fields = {f.name: f for f in Candidate._meta.get_fields() if hasattr(f, "verbose_name")}
    for column in HOSO.columns:
        if column.key not in fields:
            continue  # person columns
        label = fold(str(fields[column.key].verbose_name))
        if label and label in folded and (best is None or len(label) > best[0]):
            best = (len(label), column.key)
    return best[1] if best else None


def _order_orgs(ctx: _Context, rows: list[ParsedRow]) -> list[ParsedRow]:
    """Parents before children, whatever order the sheet has; rows whose parent never appears keep their place."""
    by_code = {row.values["code"]: row for row in rows}
    ordered: list[ParsedRow] = []
    placed: set[str] = set()
    visiting: set[str] = set()

    def place(row: ParsedRow) -> None:
        code = row.values["code"]
        if code in placed or code in visiting:
            return
        visiting.add(code)
        parent = by_code.get(row.values["parent_code"])
        if parent is not None:
            place(parent)
        visiting.discard(code)
        placed.add(code)
        ordered.append(row)

    for row in rows:
        place(row)
    return ordered


def _split_known_people(ctx: _Context, rows: list[ParsedRow]) -> tuple[list[ParsedRow], list[ParsedRow]]:
    """HoSo rows of people already in the system (applied one by one) and of new people (applied in bulk)."""
    from members.selectors import person_codes_existing

    ctx.preload_orgs({row.values["branch_code"] for row in rows} |
                     {row.values["deciding_org_code"] for row in rows if row.values["deciding_org_code"]})
    known = person_codes_existing([row.values["code"] for row in rows])
    return [r for r in rows if r.values["code"] in known], [r for r in rows if r.values["code"] not in known]


APPLIERS: list[tuple[Sheet, Callable[[_Context, ParsedRow], str]]] = [
    (TOCHUC, _apply_org),
    (MEMBERS, _apply_members),
    (QUOTAS, _apply_quota),
    (HOSO, _apply_candidate),
]


def import_workbook(*, data: bytes, actor=None, dry_run: bool = False, progress: Progress | None = None) -> ImportResult:
    """Import a workbook all or nothing. Returns what happened; nothing is written unless `result.ok`
    and not `dry_run`. `actor=None` (management command) may touch the whole tree; a user only their subtree."""
    report = progress or (lambda pct, msg: None)
    result = ImportResult(dry_run=dry_run)
    report(2, "Đang đọc tệp")
    parsed = read_rows(data, result)
    ctx = _Context(actor, result)
    if ctx.root_path is None:
        result.errors.append(RowError("", 0, "", "IMP-SCOPE", "Tài khoản chưa được gán tổ chức"))
    total = sum(len(rows) for rows in parsed.values()) or 1
    done = 0
    new_rows: list[ParsedRow] = []
    report(10, "Đang kiểm tra và ghi dữ liệu")
    try:
        with transaction.atomic():
            for sheet, apply in APPLIERS:
                rows = parsed.get(sheet.name, [])
                if sheet is TOCHUC:
                    rows = _order_orgs(ctx, rows)
                if sheet is HOSO:
                    rows, new_rows = _split_known_people(ctx, rows)
                for row in rows:
                    _apply_row(ctx, row, apply, sheet)
                    done += 1
                    if done % 25 == 0:
                        report(10 + int(85 * done / total), f"Đã xử lý {done}/{total} dòng")
            if new_rows:
                start = done

                def tick(checked: int) -> None:
                    report(10 + int(85 * (start + checked) / total), f"Đã kiểm tra {start + checked}/{total} dòng")

                _apply_new_candidates(ctx, new_rows, write=not (result.errors or dry_run), tick=tick)
            if result.errors or dry_run:
                raise _Rollback
    except _Rollback:
        pass
    result.errors.sort(key=lambda e: ([s.name for s in SHEETS].index(e.sheet) if e.sheet in [s.name for s in SHEETS] else -1, e.row))
    if result.ok and not dry_run and result.changed:
        _recompute_attainment(result.years)
    report(100, "Xong")
    return result


def _recompute_attainment(years: set[int]) -> None:
    """The import may touch thousands of records at once: one full recompute per year (and of the dashboard's
    pipeline counts) beats per-row coalescing."""
    from quotas.services import attainment_recompute, pipeline_figures_recompute

    for year in sorted(years):
        attainment_recompute(year=year)
    pipeline_figures_recompute(today=dt.date.today())


# ---------------------------------------------------------------------------------------------------------
# The copy of the workbook with the bad cells marked


def marked_workbook(data: bytes, errors: list[RowError]) -> bytes:
    """The user's own workbook, every refused cell filled red with a comment naming the rule, plus a list."""
    wb = load_workbook(io.BytesIO(data))
    fill = PatternFill("solid", fgColor="F8CBAD")
    row_fill = PatternFill("solid", fgColor="FCE4D6")
    by_folded = {header_key(name): name for name in wb.sheetnames}
    for error in errors:
        name = by_folded.get(header_key(error.sheet))
        if name is None or error.row < 1:
            continue
        ws = wb[name]
        if error.col_index:
            cell = ws.cell(row=error.row, column=error.col_index)
            cell.fill = fill
            text = f"{error.rule_id}: {error.message}"
            cell.comment = Comment(f"{cell.comment.text}\n{text}" if cell.comment else text, "Hệ thống")
        else:
            for cell in ws[error.row]:
                cell.fill = row_fill
            first = ws.cell(row=error.row, column=1)
            first.comment = Comment(f"{error.rule_id}: {error.message}", "Hệ thống")
    if "LoiNhap" in wb.sheetnames:
        del wb["LoiNhap"]
    ws = wb.create_sheet("LoiNhap", 0)
    ws.append(["Trang", "Dòng", "Cột", "Mã quy tắc", "Nội dung"])
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for error in errors:
        ws.append([error.sheet, error.row, error.column, error.rule_id, error.message])
    for letter, width in zip("ABCDE", (14, 8, 30, 16, 90), strict=True):
        ws.column_dimensions[letter].width = width
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()
