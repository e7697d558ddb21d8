import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import load_workbook

from accounts.models import Role
from core.models import AuditLog, Job
from members.models import Person
from recruitment.models import Stage
from reports.tests.helpers import hoso_sheet, make_workbook, person_row
from tests.factories import CandidateFactory, PersonFactory, UserFactory

pytestmark = pytest.mark.django_db


def _post_document(client, org, *, fmt="pdf", kind="results", year=2025):
    return client.post(reverse("reports:documents"), {"org": org.pk, "year": year, "kind": kind, "format": fmt})


def test_documents_page_offers_only_nodes_of_the_subtree(world, client_for):
    client = client_for(world.persona("board_city"))
    response = client.get(reverse("reports:documents"))
    assert response.status_code == 200
    choices = {str(label) for _, label in response.context["form"].fields["org"].choices}
    assert any("Thành ủy Thử nghiệm" in c for c in choices)
    assert not any("Thành ủy Khác" in c for c in choices)
    assert _post_document(client, world.other_city).status_code == 404  # outside the subtree: nothing queued
    assert not Job.objects.exists()


def test_branch_staff_can_make_their_branch_document_but_not_a_siblings(world, client_for,
                                                                        django_capture_on_commit_callbacks):
    client = client_for(world.persona("staff_branch"))
    response = client.get(reverse("reports:documents"))
    choices = {str(label) for _, label in response.context["form"].fields["org"].choices}
    assert choices == {"Chi bộ Khu 1"}
    assert _post_document(client, world.sibling).status_code == 404
    assert not Job.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        response = _post_document(client, world.branch, fmt="docx")
    assert response.status_code == 302
    job = Job.objects.get()
    assert job.org_id == world.branch.pk and job.status == Job.Status.DONE and job.file
    # A committee member still gets committees and bases only, not every branch of the subtree.
    board = client_for(world.persona("board_city"))
    choices = {str(label) for _, label in board.get(reverse("reports:documents")).context["form"].fields["org"].choices}
    assert not any("Chi bộ Khu" in c for c in choices)


def test_province_report_request_only_enqueues_then_the_job_builds_it(world, client_for,
                                                                     django_capture_on_commit_callbacks):
    admin = UserFactory(role=Role.ADMIN, org=world.province)
    client = client_for(admin)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = _post_document(client, world.province)
    assert response.status_code == 302
    job = Job.objects.get()
    # The request returned without building anything: the document is only queued.
    assert (job.kind, job.status, job.progress, bool(job.file)) == ("export", Job.Status.QUEUED, 0, False)
    assert len(callbacks) == 1
    callbacks[0]()  # what the worker does (Celery is eager in tests)
    job.refresh_from_db()
    assert job.status == Job.Status.DONE and job.progress == 100 and job.file

    page = client.get(reverse("reports:documents"))
    assert reverse("reports:download", args=[job.pk]) in page.content.decode()
    response = client.get(reverse("reports:download", args=[job.pk]))
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    assert response["Content-Type"] == "application/pdf"
    assert b"".join(response.streaming_content).startswith(b"%PDF")
    assert AuditLog.objects.filter(action="report.download", object_id=str(job.pk), actor=admin).exists()


def test_running_job_row_polls_and_finished_row_stops(world, client_for):
    client = client_for(world.persona("board_city"))
    job = Job.objects.create(kind="export", org=world.city, status=Job.Status.RUNNING, progress=40,
                             params={"year": 2025, "kind": "plan", "format": "docx"})
    html = client.get(reverse("reports:job_status", args=[job.pk])).content.decode()
    assert 'hx-trigger="every 1s"' in html and "40%" in html
    Job.objects.filter(pk=job.pk).update(status=Job.Status.FAILED, message="Lỗi thử")
    html = client.get(reverse("reports:job_status", args=[job.pk])).content.decode()
    assert "hx-trigger" not in html and "Lỗi thử" in html


def test_another_subtree_report_is_404_even_with_its_url(world, client_for, django_capture_on_commit_callbacks):
    client = client_for(world.persona("board_city"))
    with django_capture_on_commit_callbacks(execute=True):
        _post_document(client, world.city, fmt="xlsx")
    job = Job.objects.get()
    assert job.status == Job.Status.DONE
    outsider = client_for(world.persona("board_other"))
    assert outsider.get(reverse("reports:download", args=[job.pk])).status_code == 404
    assert outsider.get(reverse("reports:job_status", args=[job.pk])).status_code == 404


def _upload(client, data: bytes, *, dry_run=False):
    payload = {"workbook": SimpleUploadedFile("du-lieu.xlsx", data)}
    if dry_run:
        payload["dry_run"] = "on"
    return client.post(reverse("reports:import"), payload)


def test_import_page_runs_the_job_and_shows_the_result(world, client_for, django_capture_on_commit_callbacks):
    client = client_for(world.persona("staff_branch"))
    form = client.get(reverse("reports:import")).content.decode()
    # The native file input (English "Choose File" in Chromium) is hidden behind a Vietnamese label.
    assert 'type="file" name="workbook" id="id_workbook"' in form and 'class="visually-hidden"' in form
    assert '<label for="id_workbook"' in form and "Chọn tệp Excel" in form
    with django_capture_on_commit_callbacks(execute=True):
        response = _upload(client, make_workbook({"HoSo": hoso_sheet(person_row(1), person_row(2))}))
    job = Job.objects.get(kind="import")
    assert response.status_code == 302 and response["Location"] == reverse("reports:import_status", args=[job.pk])
    assert job.status == Job.Status.DONE, job.message
    assert Person.objects.filter(code__in=["THS-001", "THS-002"]).count() == 2
    page = client.get(response["Location"]).content.decode()
    assert "Đã nhập xong" in page


def test_import_with_a_bad_row_lists_row_and_rule_and_offers_the_marked_workbook(world, client_for,
                                                                                 django_capture_on_commit_callbacks):
    client = client_for(world.persona("staff_branch"))
    rows = hoso_sheet(person_row(1), person_row(2, **{"Số phiếu tán thành chi bộ": 3}))
    with django_capture_on_commit_callbacks(execute=True):
        response = _upload(client, make_workbook({"HoSo": rows}))
    job = Job.objects.get(kind="import")
    assert job.status == Job.Status.FAILED
    assert not Person.objects.filter(code__startswith="THS-").exists()
    page = client.get(response["Location"]).content.decode()
    assert "R-VOTE-BRANCH" in page and "<td>3</td>" in page
    marked = client.get(reverse("reports:import_marked", args=[job.pk]))
    assert marked.status_code == 200 and marked["Cache-Control"] == "no-store"
    wb = load_workbook(io.BytesIO(b"".join(marked.streaming_content)))
    assert [c.value for c in wb["LoiNhap"][2]][:4] == ["HoSo", 3, "Số phiếu tán thành chi bộ", "R-VOTE-BRANCH"]
    # Another subtree cannot see this import, even with its URL.
    outsider = client_for(world.persona("staff_sibling"))
    assert outsider.get(reverse("reports:import_status", args=[job.pk])).status_code == 404
    assert outsider.get(reverse("reports:import_marked", args=[job.pk])).status_code == 404


def test_import_progress_partial_polls_while_running(world, client_for):
    client = client_for(world.persona("staff_branch"))
    job = Job.objects.create(kind="import", org=world.branch, status=Job.Status.RUNNING, progress=55,
                             params={"filename": "a.xlsx", "dry_run": False})
    html = client.get(reverse("reports:import_status", args=[job.pk]), HTTP_HX_REQUEST="true").content.decode()
    assert 'hx-trigger="every 1s"' in html and "55%" in html and "<html" not in html


def test_viewers_cannot_import(world, client_for):
    client = client_for(world.persona("viewer_city"))
    assert client.get(reverse("reports:import")).status_code == 403


def test_blank_template_downloads(world, client_for):
    response = client_for(world.persona("staff_branch")).get(reverse("reports:import_template"))
    assert response.status_code == 200
    wb = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    assert {"ToChuc", "DangVienDauNam", "ChiTieu", "HoSo"} <= set(wb.sheetnames)


def _export_rows(client, query: str = "") -> list[tuple]:
    response = client.get(reverse("reports:candidates_xlsx") + query)
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    ws = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    return [r for r in ws.iter_rows(min_row=3, values_only=True)]


def _people(world):
    a = PersonFactory(branch=world.branch, full_name="=HYPERLINK(\"http://x\",\"y\")", cccd="022900000001")
    CandidateFactory(person=a, org=world.branch, stage=Stage.SYMPATHISER)
    b = PersonFactory(branch=world.branch, full_name="Trần Văn Bình", cccd="022900000002")
    CandidateFactory(person=b, org=world.branch, stage=Stage.OUTSTANDING)
    c = PersonFactory(branch=world.other_branch, full_name="Lê Thị Xa", cccd="022900000003")
    CandidateFactory(person=c, org=world.other_branch, stage=Stage.OUTSTANDING)


def test_candidate_export_masks_cccd_for_boards_and_neutralises_formulas(world, client_for):
    _people(world)
    rows = _export_rows(client_for(world.persona("board_city")))
    names = {r[1] for r in rows}
    assert names == {"'=HYPERLINK(\"http://x\",\"y\")", "Trần Văn Bình"}  # the other city is not there
    assert sorted(r[4] for r in rows) == ["••••••••0001", "••••••••0002"]
    assert AuditLog.objects.filter(action="candidates.export").exists()


def test_candidate_export_shows_full_cccd_to_staff_and_honours_filters(world, client_for):
    _people(world)
    client = client_for(world.persona("staff_branch"))
    rows = _export_rows(client, f"?stage={Stage.OUTSTANDING}")
    assert [(r[1], r[4]) for r in rows] == [("Trần Văn Bình", "022900000002")]
    rows = _export_rows(client, "?q=binh")
    assert [r[1] for r in rows] == ["Trần Văn Bình"]
