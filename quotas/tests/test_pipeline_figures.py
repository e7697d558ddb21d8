"""The dashboard's pipeline counts materialised per node (PipelineFigures): equal to the live count for every
node, refreshed lineage by lineage after a change, never used on another day, queued by every pipeline write."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from orgs.models import OrgUnit
from orgs.services import org_move
from quotas import selectors
from quotas.models import AttainmentPending, PipelineFigures
from quotas.pipeline import FLAG_CODES, FLAGS_KEY, figure_aggregates
from quotas.services import lineage_ids, pipeline_figures_recompute
from recruitment import services
from recruitment.models import Candidate, Stage
from tests.factories import CandidateFactory, PersonFactory

pytestmark = pytest.mark.django_db

TODAY = dt.date.today()


def live(org: OrgUnit) -> dict:
    return Candidate.objects.filter(org__path__startswith=org.path).aggregate(
        **figure_aggregates(year=TODAY.year, today=TODAY)
    )


def stored(org: OrgUnit) -> dict:
    """The counts of the node's row (its flags are compared by their own test)."""
    figures = dict(PipelineFigures.objects.get(org=org, on=TODAY).figures)
    assert set(figures.pop(FLAGS_KEY)) == set(FLAG_CODES)
    return figures


def flags_of(flags) -> list[tuple]:
    return [(flag.code, flag.count, flag.orgs) for flag in flags]


def populate(world) -> list[Candidate]:
    """Candidates at several stages, with due dates both passed and to come, in three branches."""
    rows = []
    for i, (org, stage, extra) in enumerate([
        (world.branch, Stage.OUTSTANDING, {}),
        (world.branch, Stage.SYMPATHISER, {}),
        (world.sibling, Stage.BRANCH_RESOLUTION, {"decision_due": TODAY - dt.timedelta(days=3),
                                                  "branch_resolution_date": TODAY - dt.timedelta(days=100)}),
        (world.sibling, Stage.BASE_RESOLUTION, {"decision_due": dt.date(TODAY.year, 12, 31) + dt.timedelta(days=20)}),
        (world.school, Stage.ADMITTED, {"ceremony_due": TODAY - dt.timedelta(days=1)}),
        (world.school, Stage.PROBATIONARY, {"recognition_due": TODAY + dt.timedelta(days=30)}),
        (world.other_branch, Stage.DOSSIER, {"certificate_date": TODAY - dt.timedelta(days=90),
                                             "application_date": TODAY - dt.timedelta(days=10)}),
    ]):
        person = PersonFactory(branch=org, code=f"PF-{i}")
        rows.append(CandidateFactory(person=person, org=org, stage=stage, **extra))
    return rows


def test_every_node_stores_what_a_live_count_of_its_subtree_gives(world):
    populate(world)
    written = pipeline_figures_recompute(today=TODAY)
    assert written == OrgUnit.objects.count()
    for org in OrgUnit.objects.all():
        assert stored(org) == live(org), org.code
    assert stored(world.province)["n_overdue_decision"] == 1
    assert stored(world.city)["n_stage_" + Stage.SYMPATHISER] == 1
    assert stored(world.province)["voted_late"] == 1 and stored(world.other_city)["ready_total"] == 1


def test_a_lineage_refresh_adds_children_rows_to_the_nodes_own_candidates(world):
    candidates = populate(world)
    pipeline_figures_recompute(today=TODAY)
    first = candidates[0]
    services.candidate_advance(candidate=first, to_stage=Stage.SYMPATHISER, data={"sympathiser_date": TODAY},
                               actor=None)
    CandidateFactory(person=PersonFactory(branch=world.base, code="PF-OWN"), org=world.base)  # the base's own
    with CaptureQueriesContext(connection) as queries:
        pipeline_figures_recompute(today=TODAY, org_ids=lineage_ids(world.branch.lineage) + [world.base.pk])
    assert len(queries) <= 10  # whatever the number of nodes
    for org in OrgUnit.objects.all():
        assert stored(org) == live(org), org.code


def test_a_node_whose_child_has_no_row_of_today_is_counted_live(world):
    populate(world)
    pipeline_figures_recompute(today=TODAY)
    PipelineFigures.objects.filter(org=world.sibling).update(on=TODAY - dt.timedelta(days=1))
    CandidateFactory(person=PersonFactory(branch=world.sibling, code="PF-NEW"), org=world.sibling)
    pipeline_figures_recompute(today=TODAY, org_ids=lineage_ids(world.branch.lineage))
    assert stored(world.base) == live(world.base) and stored(world.province) == live(world.province)


def test_the_dashboard_reads_todays_row_in_one_query_and_ignores_a_row_of_another_day(world):
    populate(world)
    pipeline_figures_recompute(today=TODAY)
    PipelineFigures.objects.filter(org=world.city).update(figures={**stored_row(world.city), "n_stage_uu_tu": 999})
    with CaptureQueriesContext(connection) as queries:
        figures = selectors.candidate_figures(root=world.city, year=TODAY.year, today=TODAY)
    assert len(queries) == 1 and figures["n_stage_uu_tu"] == 999  # proves the row was read, not recounted
    with CaptureQueriesContext(connection) as queries:
        selectors.dashboard_flags(root=world.city, year=TODAY.year, figures=figures)
    assert len(queries) == 1  # the last admission year of the listed branches; the flags came with the row

    PipelineFigures.objects.filter(org=world.city).update(on=TODAY - dt.timedelta(days=1))
    assert selectors.candidate_figures(root=world.city, year=TODAY.year, today=TODAY) == live(world.city)
    next_year = selectors.candidate_figures(root=world.province, year=TODAY.year + 1, today=TODAY)
    assert next_year["voted_late"] == 0  # another year's forecast is counted live against that year's end


def _queued() -> set[int]:
    return set(AttainmentPending.objects.filter(year=TODAY.year).values_list("org_id", flat=True))


def test_every_pipeline_write_queues_its_lineage_for_todays_counts(world, django_capture_on_commit_callbacks):
    from quotas import services as quota_services

    # The fixture's own writes left a batch whose callback never runs (a test's transaction never commits).
    quota_services._batches.clear()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        candidate = services.candidate_create(
            person_data={"full_name": "Lê Thị Hàng", "birth_date": dt.date(2000, 1, 2), "gender": "nu",
                         "education": "dai_hoc", "occupation_group": "vien_chuc"},
            branch=world.branch, actor=None)
        services.candidate_advance(candidate=candidate, to_stage=Stage.SYMPATHISER,
                                   data={"sympathiser_date": TODAY}, actor=None)
    for callback in callbacks:
        if callback.__name__ == "flush":  # the coalesced batch; the worker's run is not wanted here
            callback()
    assert _queued() >= set(lineage_ids(world.branch.lineage))

    AttainmentPending.objects.all().delete()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.candidate_transfer(candidate=candidate, to_branch=world.school, actor=None)
    for callback in callbacks:
        if callback.__name__ == "flush":
            callback()
    assert _queued() >= set(lineage_ids(world.branch.lineage)) | set(lineage_ids(world.school.lineage))

    AttainmentPending.objects.all().delete()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        org_move(org=world.sibling, new_parent=world.school, effective_date=TODAY)
    for callback in callbacks:
        if callback.__name__ == "flush":
            callback()
    moved = OrgUnit.objects.get(pk=world.sibling.pk)
    assert _queued() >= set(lineage_ids(world.base.lineage)) | set(lineage_ids(moved.lineage))


def test_stored_flags_equal_the_live_flags_for_every_node_of_the_demo(demo_province, db):
    """The demo shows every flag; each node's stored count and first nodes must be what the SQL reading lists."""
    pipeline_figures_recompute(today=TODAY)
    rows = dict(PipelineFigures.objects.filter(on=TODAY).values_list("org_id", "figures"))
    nodes = list(OrgUnit.objects.filter(path__startswith=demo_province.path))
    seen = set()
    for org in nodes:
        live_flags = flags_of(selectors.dashboard_flags(root=org, year=TODAY.year))
        stored_flags = flags_of(selectors.dashboard_flags(root=org, year=TODAY.year, figures=rows[org.pk]))
        assert stored_flags == live_flags, org.code
        seen |= {code for code, count, _orgs in live_flags if count}
    assert seen == set(FLAG_CODES)
    province = flags_of(selectors.dashboard_flags(root=demo_province, year=TODAY.year, figures=rows[demo_province.pk]))
    assert any(count > len(orgs) for _code, count, orgs in province)  # a list cut at SHOWN_PER_FLAG is cut alike


def test_a_lineage_refresh_keeps_the_flags_in_step(world):
    pipeline_figures_recompute(today=TODAY)
    before = flags_of(selectors.dashboard_flags(root=world.city, year=TODAY.year, figures=stored_row(world.city)))
    assert ("R-RESIDENTIAL-ONE", 2, [(world.branch.pk, world.branch.name, ""), (world.sibling.pk, world.sibling.name, "")]) in before
    from orgs.services import org_update

    org_update(org=world.sibling, fields={"sector": "khac"})
    pipeline_figures_recompute(today=TODAY, org_ids=lineage_ids(world.sibling.lineage))
    after = flags_of(selectors.dashboard_flags(root=world.city, year=TODAY.year, figures=stored_row(world.city)))
    assert after == flags_of(selectors.dashboard_flags(root=world.city, year=TODAY.year))
    assert ("R-RESIDENTIAL-ONE", 1, [(world.branch.pk, world.branch.name, "")]) in after


def stored_row(org: OrgUnit) -> dict:
    return PipelineFigures.objects.get(org=org, on=TODAY).figures
