"""Writes of the reports app: import and document jobs (core.models.Job), and spreadsheet exports.

The web request only creates the Job and enqueues its task on commit; the task calls `*_run(job_id=…)`.
"""

from __future__ import annotations

import datetime as dt
import io
import logging

from django.core.files.base import ContentFile
from django.db import connection, connections, transaction
from django.utils import timezone

from core.audit import audit
from core.models import Job
from core.text import mask_cccd
from orgs.models import OrgUnit
from reports.content import KINDS, build_document
from reports.documents import CONTENT_TYPES, render, xlsx_safe

log = logging.getLogger(__name__)

JOB_EXPORT = "export"
JOB_IMPORT = "import"
FORMATS = tuple(CONTENT_TYPES)


# ---------------------------------------------------------------------------------------------------------
# Progress


def job_progress(job_id: int, progress: int, message: str = "") -> None:
    """Write progress where the polling page can see it, even from inside a long transaction.

    An import holds one transaction for minutes; an UPDATE on that connection would stay invisible until the
    end. On PostgreSQL the progress goes through a second, autocommit connection; elsewhere (SQLite under
    `make run`, where jobs run in-process anyway) it is written only outside transactions."""
    values = {"progress": max(0, min(100, int(progress))), "message": message[:500]}
    if not connection.in_atomic_block:
        Job.objects.filter(pk=job_id).update(**values)
        return
    if connection.vendor != "postgresql":
        return
    side = connections.create_connection("default")
    try:
        with side.cursor() as cursor:
            cursor.execute(
                f"UPDATE {Job._meta.db_table} SET progress = %s, message = %s WHERE id = %s",  # noqa: S608 - table name is ours
                [values["progress"], values["message"], job_id],
            )
    except Exception:  # noqa: BLE001 - progress is best effort, the job itself must go on
        log.warning("progress update for job %s failed", job_id, exc_info=True)
    finally:
        side.close()


def _job_start(job: Job) -> None:
    Job.objects.filter(pk=job.pk).update(status=Job.Status.RUNNING, started_at=timezone.now(), progress=1)


def _job_fail(job_id: int, message: str) -> None:
    Job.objects.filter(pk=job_id).update(status=Job.Status.FAILED, finished_at=timezone.now(), message=message[:500])


# ---------------------------------------------------------------------------------------------------------
# Documents


def report_generate(*, org: OrgUnit, year: int, kind: str, fmt: str, on: dt.date | None = None) -> bytes:
    """The document itself (the management command and the job both call this)."""
    if kind not in KINDS:
        raise ValueError(f"Loại văn bản không hợp lệ: {kind}")
    if fmt not in FORMATS:
        raise ValueError(f"Định dạng không hợp lệ: {fmt}")
    return render(build_document(org=org, year=year, kind=kind, on=on), fmt)


def report_filename(*, org: OrgUnit, year: int, kind: str, fmt: str) -> str:
    stem = "ke-hoach-ket-nap" if kind == "plan" else "bao-cao-ket-qua"
    return f"{stem}-{org.code}-{year}.{fmt}"


@transaction.atomic
def report_export_start(*, actor, org: OrgUnit, year: int, kind: str, fmt: str, request=None) -> Job:
    """Queue a document. The caller has already checked that `org` is in the actor's subtree."""
    if kind not in KINDS or fmt not in FORMATS:
        raise ValueError("Loại văn bản hoặc định dạng không hợp lệ")
    job = Job.objects.create(
        kind=JOB_EXPORT,
        org=org,
        created_by=actor,
        params={"org": org.code, "year": year, "kind": kind, "format": fmt},
        message="Đang chờ xử lý",
    )
    audit(action="report.request", actor=actor, obj=job, org=org, request=request,
          detail={"year": year, "kind": kind, "format": fmt})
    from reports.tasks import report_export_task

    transaction.on_commit(lambda: report_export_task.delay(job_id=job.pk))
    return job


def report_export_run(*, job_id: int) -> Job:
    """Build the document of a queued export job and attach the file. Idempotent: a finished job is left alone."""
    job = Job.objects.select_related("org").get(pk=job_id)
    if job.status == Job.Status.DONE:
        return job
    _job_start(job)
    params = job.params
    try:
        job_progress(job.pk, 20, "Đang tổng hợp số liệu")
        doc = build_document(org=job.org, year=int(params["year"]), kind=params["kind"])
        job_progress(job.pk, 60, "Đang dàn trang")
        data = render(doc, params["format"])
    except Exception as exc:
        log.exception("export job %s failed", job_id)
        _job_fail(job_id, f"Không tạo được văn bản: {exc.__class__.__name__}: {exc}")
        return Job.objects.get(pk=job_id)
    name = report_filename(org=job.org, year=int(params["year"]), kind=params["kind"], fmt=params["format"])
    job.file.save(name, ContentFile(data), save=False)
    job.status = Job.Status.DONE
    job.progress = 100
    job.message = "Hoàn thành"
    job.finished_at = timezone.now()
    job.result = {"filename": name, "size": len(data)}
    job.save(update_fields=["file", "status", "progress", "message", "finished_at", "result"])
    return job


# ---------------------------------------------------------------------------------------------------------
# Import


@transaction.atomic
def import_start(*, actor, org: OrgUnit, filename: str, data: bytes, dry_run: bool, request=None) -> Job:
    job = Job.objects.create(
        kind=JOB_IMPORT,
        org=org,
        created_by=actor,
        params={"filename": filename[:200], "dry_run": dry_run},
        message="Đang chờ xử lý",
    )
    job.file.save(f"nhap-{job.pk}.xlsx", ContentFile(data), save=True)
    audit(action="import.request", actor=actor, obj=job, org=org, request=request, detail={"dry_run": dry_run})
    from reports.tasks import import_task

    transaction.on_commit(lambda: import_task.delay(job_id=job.pk))
    return job


def import_run(*, job_id: int) -> Job:
    from reports.importer import import_workbook, marked_workbook

    job = Job.objects.select_related("org", "created_by").get(pk=job_id)
    if job.status in (Job.Status.DONE, Job.Status.FAILED):
        return job
    _job_start(job)
    with job.file.open("rb") as handle:
        data = handle.read()
    try:
        result = import_workbook(
            data=data, actor=job.created_by, dry_run=bool(job.params.get("dry_run")),
            progress=lambda pct, msg: job_progress(job.pk, pct, msg),
        )
    except Exception as exc:
        log.exception("import job %s failed", job_id)
        _job_fail(job_id, f"Lỗi khi nhập: {exc.__class__.__name__}: {exc}")
        return Job.objects.get(pk=job_id)
    job.result = result.as_dict()
    if result.errors:
        marked = marked_workbook(data, result.errors)
        name = f"loi-nhap-{job.pk}.xlsx"
        from django.core.files.storage import default_storage

        job.result["marked_file"] = default_storage.save(f"jobs/errors/{name}", ContentFile(marked))
        job.message = f"Có {len(result.errors)} lỗi: không ghi dữ liệu nào"
        job.status = Job.Status.FAILED
    else:
        job.status = Job.Status.DONE
        job.message = "Kiểm tra xong, không có lỗi (chưa ghi)" if result.dry_run else "Đã nhập xong"
    job.progress = 100
    job.finished_at = timezone.now()
    job.save(update_fields=["result", "status", "message", "progress", "finished_at"])
    audit(
        action="import.dry_run" if result.dry_run else "import.run",
        actor=job.created_by,
        obj=job,
        org=job.org,
        detail={"ok": result.ok, "errors": len(result.errors), "counts": result.counts},
    )
    return job


# ---------------------------------------------------------------------------------------------------------
# Candidate list as Excel


CANDIDATE_COLUMNS = [
    ("Mã hồ sơ", 14), ("Họ và tên", 26), ("Ngày sinh", 12), ("Giới tính", 9), ("Số CCCD", 16),
    ("Nhóm nghề nghiệp", 20), ("Chi bộ", 34), ("Giai đoạn", 24), ("Ngày vào danh sách ưu tú", 14),
    ("Ngày cảm tình Đảng", 14), ("Ngày nghị quyết chi bộ", 14), ("Ngày quyết định kết nạp", 14),
    ("Ngày lễ kết nạp", 14), ("Ngày công nhận chính thức", 14),
]


def candidates_xlsx(*, user, candidates, title: str = "Danh sách") -> bytes:
    """The list the user is looking at, as a workbook: CCCD masked unless the role needs it, every text cell
    that could start a formula neutralised."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    full_cccd = bool(getattr(user, "sees_full_cccd", False))
    wb = Workbook()
    ws = wb.active
    ws.title = "Danh sach"
    ws.append([xlsx_safe(title)])
    ws["A1"].font = Font(bold=True, size=13)
    ws.append([header for header, _ in CANDIDATE_COLUMNS])
    for cell in ws[2]:
        cell.font = Font(bold=True)
    date_columns = {3, 9, 10, 11, 12, 13, 14}
    count = 0
    for c in candidates:
        person = c.person
        cccd = person.cccd or ""
        values = [
            person.code, person.full_name, person.birth_date, person.get_gender_display(),
            cccd if full_cccd else mask_cccd(cccd), person.get_occupation_group_display(), c.org.name,
            c.get_stage_display(), c.source_date, c.sympathiser_date, c.branch_resolution_date, c.decision_date,
            c.ceremony_date, c.recognition_date,
        ]
        ws.append([xlsx_safe(v) if isinstance(v, str) else v for v in values])
        for col in date_columns:
            ws.cell(row=ws.max_row, column=col).number_format = "DD/MM/YYYY"
        count += 1
    for index, (_, width) in enumerate(CANDIDATE_COLUMNS, start=1):
        ws.column_dimensions[get_column_letter(index)].width = width
    ws.freeze_panes = "A3"
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()
