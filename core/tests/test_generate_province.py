"""The synthetic province of `generate_province`: a valid tree, the requested shape, and determinism."""

import datetime as dt
import io

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction

from core.synthetic import ROOT_CODE, Plan, build_tree, generate_province, province_summary
from members.models import Person
from orgs.models import Kind, OrgUnit, OrgYearStat
from quotas.models import Quota
from recruitment.models import Candidate, Stage

MEMBERS = 2_000
AS_OF = dt.date(2026, 10, 31)
MILESTONES = [
    "source_date",
    "sympathiser_date",
    "certificate_date",
    "application_date",
    "opinions_date",
    "branch_resolution_date",
    "base_resolution_date",
    "decision_date",
    "ceremony_date",
    "recognition_date",
    "recognition_branch_resolution_date",
    "recognition_decision_date",
]


class _Rollback(Exception):
    pass


def _fingerprint(root: OrgUnit) -> dict:
    """Everything that must be equal for the same seed, expressed without database IDs."""
    code_of = dict(OrgUnit.objects.values_list("pk", "code"))
    nodes = list(
        OrgUnit.objects.filter(path__startswith=root.path)
        .order_by("path")
        .values_list("code", "name", "kind", "sector", "depth", "numchild", "lineage")
    )
    nodes = [(*row[:6], "/".join(code_of[int(part)] for part in row[6].strip("/").split("/"))) for row in nodes]
    people = list(
        Candidate.objects.filter(org__path__startswith=root.path)
        .order_by("person__code")
        .values_list("person__code", "person__full_name", "person__birth_date", "org__code", "stage", *MILESTONES)
    )
    return {"summary": province_summary(root), "nodes": nodes, "people": people}


@pytest.fixture
def province(db) -> OrgUnit:
    return generate_province(members=MEMBERS, seed=11, as_of=AS_OF)


def test_tree_is_a_valid_treebeard_tree_with_lineage(province):
    assert OrgUnit.objects.find_problems() == ([], [], [], [], [])
    nodes = {n.path: n for n in OrgUnit.objects.filter(path__startswith=province.path)}
    for path, node in nodes.items():
        assert len(path) == node.depth * OrgUnit.steplen
        assert node.numchild == sum(1 for p in nodes if p.startswith(path) and len(p) == len(path) + 4)
        if node.pk != province.pk:
            parent = nodes[path[:-4]]
            assert node.lineage == f"{parent.lineage}{node.pk}/"
            assert node.code.startswith(f"{parent.code}.")
    # the tree API sees what the bulk insert wrote
    assert OrgUnit.objects.get_descendant_count(province) == len(nodes) - 1
    assert province.lineage == f"/{province.pk}/"


def test_shape_follows_the_requested_size(province):
    summary = province_summary(province)
    assert summary["nodes"] == pytest.approx(MEMBERS / 10, rel=0.25)
    assert summary["members_by_year"][AS_OF.year] == MEMBERS  # exact, on the leaves only
    assert not OrgYearStat.objects.filter(org__path__startswith=province.path, org__numchild__gt=0).exists()
    assert sorted(summary["members_by_year"]) == list(range(AS_OF.year - 9, AS_OF.year + 1))
    assert set(summary["nodes_by_kind"]) >= {Kind.PROVINCE, Kind.UPPER, Kind.BASE, Kind.BRANCH}
    admitted = summary["admitted_by_year"]
    assert sorted(admitted) == list(range(AS_OF.year - 9, AS_OF.year + 1))
    assert all(0.9 * 48 <= admitted[y] <= 1.1 * 48 for y in range(AS_OF.year - 9, AS_OF.year))  # 2.4 % of members
    before_decision = sum(
        n
        for stage, n in summary["by_stage"].items()
        if stage
        in (
            Stage.OUTSTANDING,
            Stage.SYMPATHISER,
            Stage.COURSE_DONE,
            Stage.DOSSIER,
            Stage.BRANCH_RESOLUTION,
            Stage.BASE_RESOLUTION,
            Stage.REMOVED,
            Stage.NOT_ADMITTED,
        )
    )
    assert before_decision == 400  # 20 % of members
    for stage in (
        Stage.OUTSTANDING,
        Stage.SYMPATHISER,
        Stage.COURSE_DONE,
        Stage.DOSSIER,
        Stage.BRANCH_RESOLUTION,
        Stage.PROBATIONARY,
        Stage.FULL_MEMBER,
    ):
        assert summary["by_stage"].get(stage, 0) > 0, stage
    assert summary["quotas"] == summary["nodes"] * 10
    assert summary["people"] == Person.objects.filter(code__startswith="G.").count()


def test_candidates_have_ordered_dates_and_lineage_snapshots(province):
    rows = Candidate.objects.filter(org__path__startswith=province.path).select_related("org", "deciding_org")
    for c in rows:
        dates = [getattr(c, f) for f in MILESTONES if getattr(c, f)]
        assert dates == sorted(dates), c.person_id  # R-ORDER
        assert all(d <= AS_OF for d in dates)
        assert c.org_id == c.person.branch_id
        assert c.org.numchild == 0
        if c.sympathiser_date:
            assert c.sympathiser_lineage == c.org.lineage
        if c.decision_date:
            assert c.admitted_lineage == c.org.lineage
            assert c.deciding_org.has_admission_authority
            assert c.org.lineage.startswith(c.deciding_org.lineage)  # R-AUTHORITY: above the branch
            assert c.branch_votes_for * 3 >= 2 * c.branch_members_summoned  # R-VOTE-BRANCH
            assert (c.base_resolution_date is None) == c.org.is_chi_bo_co_so
        # the due dates the recruitment services store (R-DECISION-DUE, R-PROBATION, R-CERT-VALID)
        assert (c.decision_due is None) == (c.branch_resolution_date is None)
        assert (c.probation_end is None) == (c.ceremony_date is None)
        assert (c.certificate_expiry is None) == (c.certificate_date is None)
        if c.recognition_date:
            assert c.recognition_date == c.probation_end  # R-PROBATION: effective when probation ends
            assert c.recognized_lineage == c.org.lineage
            assert c.stage == Stage.FULL_MEMBER
        if c.certificate_date:
            assert c.awareness_class.end_date < c.certificate_date
        if c.branch_resolution_date and c.certificate_date:
            assert (c.branch_resolution_date - c.certificate_date).days <= 60 * 30  # R-CERT-VALID


def test_parent_quota_covers_what_it_allocated(province):
    quotas = {(q.org_id, q.year): q.admission_quota for q in Quota.objects.filter(org__path__startswith=province.path)}
    for node in OrgUnit.objects.filter(path__startswith=province.path, numchild__gt=0):
        children = OrgUnit.objects.get_children(node).values_list("pk", flat=True)
        allocated = sum(quotas[(child, AS_OF.year)] for child in children)
        assert allocated <= quotas[(node.pk, AS_OF.year)] <= allocated + 2


def test_same_seed_gives_the_same_province_and_another_seed_does_not(db):
    fingerprints = []
    for seed in (5, 5, 6):
        try:
            with transaction.atomic():
                fingerprints.append(_fingerprint(generate_province(members=600, seed=seed, as_of=AS_OF)))
                raise _Rollback
        except _Rollback:
            pass
    assert fingerprints[0] == fingerprints[1]
    assert fingerprints[0]["nodes"] != fingerprints[2]["nodes"]


def test_build_tree_alone_is_deterministic_and_scales():
    small, large = build_tree(Plan(members=10_000, seed=3)), build_tree(Plan(members=100_000, seed=3))

    def count(node):
        return 1 + sum(count(c) for c in node.children)

    assert count(build_tree(Plan(members=10_000, seed=3))) == count(small)
    assert 9_000 <= count(large) <= 11_000
    assert count(large) == pytest.approx(10 * count(small), rel=0.25)


def test_command_refuses_a_second_province_and_if_missing_skips(province):
    with pytest.raises(CommandError):
        call_command("generate_province", "--members", "500", "--seed", "1", stdout=io.StringIO())
    out = io.StringIO()
    call_command("generate_province", "--members", "500", "--if-missing", stdout=out)
    assert "đã có" in out.getvalue()
    assert OrgUnit.objects.filter(code=ROOT_CODE).count() == 1


def test_command_builds_a_province(db):
    out = io.StringIO()
    call_command("generate_province", "--members", "500", "--seed", "2", "--as-of", "30/06/2025", stdout=out)
    assert "Xong" in out.getvalue()
    root = OrgUnit.objects.get(code=ROOT_CODE)
    assert province_summary(root)["members_by_year"][2025] == 500
    assert not Candidate.objects.filter(decision_date__gt=dt.date(2025, 6, 30)).exists()
