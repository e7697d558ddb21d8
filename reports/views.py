import datetime as dt
import io

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect, render

from core.audit import audit
from orgs.models import Kind
from orgs.selectors import get_org_for_user, visible_orgs
from reports.documents import CONTENT_TYPES
from reports.forms import DocumentForm, ImportForm
from reports.selectors import get_job_for_user, past_documents, past_imports
from reports.services import (
    JOB_EXPORT,
    JOB_IMPORT,
    candidates_xlsx,
    import_start,
    report_export_start,
)
from reports.workbook import blank_template

XLSX = CONTENT_TYPES["xlsx"]


def _attachment(data_or_file, *, filename: str, content_type: str) -> HttpResponse:
    if isinstance(data_or_file, bytes):
        data_or_file = io.BytesIO(data_or_file)
    response = FileResponse(data_or_file, as_attachment=True, filename=filename, content_type=content_type)
    response["Cache-Control"] = "no-store"
    return response


def _document_orgs(user):
    """Nodes a document can be made for: committees and base organisations, not every single branch
    of a large subtree; a user whose own node is a branch gets that branch (and anything under it)."""
    orgs = visible_orgs(user)
    own = user.org if getattr(user, "org_id", None) else None
    if own is None or own.kind != Kind.BRANCH:
        orgs = orgs.exclude(kind=Kind.BRANCH)
    return orgs.only("pk", "name", "code", "depth", "path", "kind").order_by("path")


@login_required
def documents(request: HttpRequest) -> HttpResponse:
    """Choose node, year, kind and format; the request only enqueues a job and lists past downloads."""
    orgs = _document_orgs(request.user)
    if request.method == "POST":
        if request.POST.get("org", "").isdigit():
            get_org_for_user(request.user, pk=int(request.POST["org"]))  # 404 outside the user's subtree
        form = DocumentForm(request.POST, orgs=orgs)
        if form.is_valid():
            data = form.cleaned_data
            report_export_start(actor=request.user, org=data["org"], year=data["year"], kind=data["kind"],
                                fmt=data["format"], request=request)
            messages.info(request, "Đã đưa vào hàng đợi; văn bản sẽ có trong danh sách bên dưới khi tạo xong.")
            return redirect("reports:documents")
    else:
        initial = {"org": request.user.org_id} if request.user.org_id else {}
        form = DocumentForm(orgs=orgs, initial=initial)
    return render(request, "reports/documents.html", {"form": form, "jobs": past_documents(request.user)})


@login_required
def job_status(request: HttpRequest, job_id: int) -> HttpResponse:
    """One row of the past-downloads table; htmx polls it while the job runs."""
    job = get_job_for_user(request.user, job_id, kind=JOB_EXPORT)
    if request.method != "GET":
        return HttpResponseNotAllowed(["GET"])
    return render(request, "reports/_job_row.html", {"job": job})


@login_required
def download(request: HttpRequest, job_id: int) -> HttpResponse:
    job = get_job_for_user(request.user, job_id, kind=JOB_EXPORT)
    if request.method != "GET":
        return HttpResponseNotAllowed(["GET"])
    if job.status != job.Status.DONE or not job.file:
        raise Http404("Văn bản chưa sẵn sàng")
    audit(action="report.download", actor=request.user, obj=job, org=job.org, request=request,
          detail={k: job.params.get(k) for k in ("year", "kind", "format")})
    fmt = job.params.get("format", "pdf")
    filename = job.result.get("filename") or f"van-ban-{job.pk}.{fmt}"
    return _attachment(job.file.open("rb"), filename=filename, content_type=CONTENT_TYPES.get(fmt, "application/octet-stream"))


# ---------------------------------------------------------------------------------------------------------
# Import


def _require_importer(request: HttpRequest) -> None:
    if not request.user.can_edit_people or (request.user.org_id is None and not request.user.is_superuser):
        raise PermissionDenied("Bạn không có quyền nhập dữ liệu")


@login_required
def import_page(request: HttpRequest) -> HttpResponse:
    _require_importer(request)
    if request.method == "POST":
        form = ImportForm(request.POST, request.FILES)
        if form.is_valid():
            upload = form.cleaned_data["workbook"]
            org = request.user.org or visible_orgs(request.user).order_by("path").first()
            if org is None:
                raise PermissionDenied("Chưa có tổ chức nào")
            job = import_start(actor=request.user, org=org, filename=upload.name, data=upload.read(),
                               dry_run=form.cleaned_data["dry_run"], request=request)
            return redirect("reports:import_status", job_id=job.pk)
    else:
        form = ImportForm()
    return render(request, "reports/import.html", {"form": form, "jobs": past_imports(request.user)})


@login_required
def import_status(request: HttpRequest, job_id: int) -> HttpResponse:
    """The import's progress and, when done, its errors; the same URL serves the page and its htmx partial."""
    job = get_job_for_user(request.user, job_id, kind=JOB_IMPORT)
    if request.method != "GET":
        return HttpResponseNotAllowed(["GET"])
    _require_importer(request)
    errors = job.result.get("errors", []) if job.result else []
    context = {"job": job, "errors": errors, "warnings": (job.result or {}).get("warnings", [])}
    template = "reports/_import_progress.html" if request.htmx else "reports/import_status.html"
    return render(request, template, context)


@login_required
def import_marked(request: HttpRequest, job_id: int) -> HttpResponse:
    """The user's workbook with the refused cells marked."""
    job = get_job_for_user(request.user, job_id, kind=JOB_IMPORT)
    if request.method != "GET":
        return HttpResponseNotAllowed(["GET"])
    _require_importer(request)
    name = (job.result or {}).get("marked_file")
    if not name or not default_storage.exists(name):
        raise Http404("Không có tệp đánh dấu lỗi")
    audit(action="import.errors_download", actor=request.user, obj=job, org=job.org, request=request)
    return _attachment(default_storage.open(name, "rb"), filename=f"loi-nhap-{job.pk}.xlsx", content_type=XLSX)


@login_required
def import_template(request: HttpRequest) -> HttpResponse:
    return _attachment(blank_template(), filename="mau-nhap-du-lieu.xlsx", content_type=XLSX)


# ---------------------------------------------------------------------------------------------------------
# Candidate list as Excel


@login_required
def candidates_export(request: HttpRequest) -> HttpResponse:
    """The candidate list with the same filters as the page (recruitment's own filter form and selector)."""
    from recruitment.forms import CandidateFilterForm
    from recruitment.selectors import ListFilters, candidate_list, node_choices

    form = CandidateFilterForm(request.GET or None, orgs=node_choices(request.user))
    filters = ListFilters()
    if form.is_valid():
        data = form.cleaned_data
        filters = ListFilters(stage=data["stage"], org=data["org"], occupation_group=data["occupation_group"],
                              gender=data["gender"], due=data["due"], q=data["q"].strip())
    elif request.GET:
        raise Http404("Bộ lọc không hợp lệ")
    qs = candidate_list(request.user, filters, today=dt.date.today())
    title = "Danh sách quần chúng, đảng viên mới"
    if filters.org is not None:
        title += f" – {filters.org.name}"
    data = candidates_xlsx(user=request.user, candidates=qs.iterator(chunk_size=500), title=title)
    audit(action="candidates.export", actor=request.user, org=request.user.org, request=request,
          # the search text may be a person's name: only whether one was given is recorded
          detail={"filters": {k: ("…" if k == "q" else str(v)) for k, v in request.GET.items() if k != "page" and v},
                  "full_cccd": bool(request.user.sees_full_cccd)})
    return _attachment(data, filename=f"danh-sach-{dt.date.today():%Y%m%d}.xlsx", content_type=XLSX)

