"""Demo people in the two branches whose staff log in to the demo (canbo.khu1, canbo.khu2).

The city-wide demo spreads its current pipeline over hundreds of branches, so Chi bộ Khu 1 and Khu 2 of
phường Quang Trung get hardly anyone: their staff would see empty lists and an empty due page. This adds a
handful of people there at each current stage (a decision due soon, one overdue, a probation ending soon),
built with the same generator as `recruitment.demo` and walked through the same rules and `apply_step`.
Idempotent (stable codes, skipped when present) and deterministic (its own random.Random seed).
"""

import datetime as dt
import random

from members.models import Person
from orgs.models import OrgUnit
from recruitment.demo import TODAY, DemoClass, Generator, _demo_users, _save
from recruitment.models import AwarenessClass, Stage
from recruitment.workdays import add_working_days, preloaded

SEED = 2611
CITY_CODE = "QN.UB"
# branch code -> (person-code prefix, first certificate number used in a class, the stages to build)
PLANS = {
    "QN.UB.01.01": ("UBK1", 501, ["outstanding", "outstanding", "sympathiser", "course_done", "dossier",
                                  "decision_soon", "decision_overdue", "probation_ending"]),
    "QN.UB.01.02": ("UBK2", 601, ["outstanding", "sympathiser", "course_done", "dossier", "decision_soon",
                                  "probation_ending"]),
}


def _draft(gen: Generator, branch: OrgUnit, city: OrgUnit, kind: str, classes: list[DemoClass], prefix: str) -> None:
    f: dict = {}
    klass = None
    deciding = None
    past = [c for c in classes if c.end <= TODAY - dt.timedelta(days=14)]
    if kind == "outstanding":
        f["source_date"] = gen.working_day_in(dt.date(2026, 8, 3), TODAY - dt.timedelta(days=5))
        final = Stage.OUTSTANDING
    elif kind == "sympathiser":
        gen.before_symp(f, gen.working_day_in(dt.date(2026, 6, 1), TODAY - dt.timedelta(days=12)))
        final = Stage.SYMPATHISER
    elif kind == "course_done":
        klass = max((c for c in past if c.obj.start_date.year == TODAY.year), key=lambda c: c.end)
        gen.before_class(f, klass)
        final = Stage.COURSE_DONE
    elif kind == "dossier":
        app = gen.working_day_in(dt.date(2026, 9, 14), TODAY - dt.timedelta(days=10))
        klass = gen.before_application(f, app, past)
        f["personal_history_verified_date"] = min(gen.days(app, 7, 20), TODAY - dt.timedelta(days=1))
        final = Stage.DOSSIER
    elif kind in ("decision_soon", "decision_overdue"):
        # the decision is due 60 working days after the branch resolution
        back = gen.r(50, 54) if kind == "decision_soon" else gen.r(64, 70)
        klass = gen.branch_before(f, add_working_days(TODAY, -back), past)
        final = Stage.BRANCH_RESOLUTION
    else:  # probation_ending: ceremony in December 2025, probation ends within a few weeks
        ceremony = add_working_days(dt.date(2025, 12, 1), gen.r(3, 10))
        decision = add_working_days(ceremony, -gen.r(8, 15))
        klass = gen.admitted_before(f, branch, decision, past)
        f["ceremony_date"] = ceremony
        f["new_member_course_date"] = gen.days(ceremony, 40, 120)
        deciding = city
        final = Stage.PROBATIONARY
    gen.add(branch, "residential", f, final, prefix=prefix, deciding=deciding, klass=klass)


def load_branch_demo(province: OrgUnit, stdout=None) -> None:
    wanted = {code: plan for code, plan in PLANS.items() if not Person.objects.filter(code=f"{plan[0]}-00001").exists()}
    branches = {o.code: o for o in OrgUnit.objects.filter(code__in=wanted, path__startswith=province.path)}
    if not branches:
        return
    city = OrgUnit.objects.get(code=CITY_CODE)
    rng = random.Random(SEED)
    gen = Generator(province, rng)
    gen.cccds = set(Person.objects.values_list("cccd", flat=True))
    classes: list[DemoClass] = []
    with preloaded(dt.date(2015, 1, 1), dt.date(2029, 12, 31)):
        for code, (prefix, first_number, kinds) in wanted.items():
            branch = branches.get(code)
            if branch is None:
                continue
            own = [DemoClass(c, next_number=first_number) for c in
                   AwarenessClass.objects.filter(organiser=city, code__startswith="UB-").order_by("end_date", "pk")]
            classes += own
            for kind in kinds:
                _draft(gen, branch, city, kind, own, prefix)
        counts = _save(gen, _demo_users(), classes)
    if stdout is not None:
        stdout.write(f"Hồ sơ mẫu cho Chi bộ Khu 1, Khu 2: {counts['people']} người.")
