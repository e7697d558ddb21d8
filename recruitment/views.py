"""Pipeline pages: list, board, person page with the next step, due list, awareness classes.

Every object comes from a get_<thing>_for_user selector (404 outside the subtree) before any permission
check (403 for roles that only read), so a foreign id never reveals that it exists."""

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from core.audit import audit
from orgs.selectors import get_org_for_user, visible_orgs
from recruitment import rules, services
from recruitment.deadlines import deadlines_for
from recruitment.forms import (
    CandidateCreateForm,
    CandidateFilterForm,
    ClassForm,
    EnrolForm,
    ExitForm,
    IntroducerForm,
    PersonEditForm,
    ResultsForm,
    StepForm,
)
from recruitment.models import EXITS, PIPELINE, Candidate, Stage
from recruitment.selectors import (
    ORG_SEARCH_LIMIT,
    board_columns,
    branch_choices,
    candidate_list,
    candidates_visible,
    class_choices_for_branch,
    class_enrolments,
    class_list,
    decision_org_choices,
    due_groups,
    enrollable_candidates,
    exit_choices,
    filter_node_options,
    get_candidate_of_person_for_user,
    get_class_for_user,
    history,
    next_stage,
    node_choices,
    org_search,
    recognition_org_choices,
    stepper,
    timeline,
    transitions_of,
    with_latest_milestone,
)
from recruitment.widgets import SubtreeSelect, options_html

PAGE_SIZE = 50


def _today() -> dt.date:
    return timezone.localdate()


def _require_editor(user) -> None:
    if not user.can_edit_people:
        raise PermissionDenied("Vai trò của bạn chỉ được xem, không được sửa hồ sơ.")


def _require_class_runner(user) -> None:
    if not user.can_run_classes:
        raise PermissionDenied("Chỉ Trung tâm Chính trị và Ban Tổ chức được quản lý lớp.")


def _stale_message(stale: services.StaleEdit) -> str:
    when = timezone.localtime(stale.changed_at).strftime("%d/%m/%Y %H:%M") if stale.changed_at else "(không rõ)"
    return f"Hồ sơ đã được {stale.changed_by} thay đổi lúc {when}, vui lòng tải lại"


def _add_validation_errors(form, error: ValidationError) -> None:
    """Service-side validation (duplicate CCCD, bad branch…) shown on the field it concerns."""
    if hasattr(error, "error_dict"):
        for name, errors in error.message_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, error.messages)


# ---------------------------------------------------------------- list


@login_required
def candidate_list_view(request: HttpRequest) -> HttpResponse:
    orgs = node_choices(request.user)
    form = CandidateFilterForm(request.GET or None, orgs=orgs)
    filters = form.to_filters()
    # The field validates against the whole subtree (`orgs`) but lists only the upper levels, the user's node and its
    # children and the chosen node; any other node is found with the search box (org_search_view).
    form.fields["org"].widget = SubtreeSelect(lambda: filter_node_options(request.user, filters.org),
                                              empty_label="Toàn bộ phạm vi")
    qs = candidate_list(request.user, filters, today=_today())
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    with_latest_milestone(page.object_list)
    query = request.GET.copy()
    query.pop("page", None)
    try:
        export_url = reverse("reports:candidates_xlsx")
    except NoReverseMatch:
        export_url = None
    context = {
        "form": form,
        "page": page,
        "query": query.urlencode(),
        "export_url": export_url,
        "can_edit": request.user.can_edit_people,
    }
    template = "recruitment/_candidate_table.html" if request.htmx else "recruitment/candidate_list.html"
    return render(request, template, context)


@login_required
def candidate_create_view(request: HttpRequest) -> HttpResponse:
    _require_editor(request.user)
    form = CandidateCreateForm(request.POST or None, branches=branch_choices(request.user))
    existing = None
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        branch = data.pop("branch")
        try:
            candidate = services.candidate_create(person_data=data, branch=branch, actor=request.user)
        except services.DuplicateCCCD as duplicate:
            # The service names the existing record only when the user may see it.
            existing = duplicate.existing
            _add_validation_errors(form, duplicate)
        except ValidationError as error:
            _add_validation_errors(form, error)
        except IntegrityError:
            form.add_error("cccd", "Số CCCD vừa được nhập cho một hồ sơ khác; kiểm tra lại.")
        else:
            messages.success(request, f"Đã thêm {candidate.person.full_name} vào danh sách quần chúng ưu tú.")
            return redirect("recruitment:person_detail", person_id=candidate.person_id)
    status = 422 if form.is_bound and form.errors else 200
    return render(request, "recruitment/candidate_form.html",
                  {"form": form, "existing": existing, "title": "Thêm quần chúng ưu tú"}, status=status)


@login_required
def org_search_view(request: HttpRequest) -> HttpResponse:
    """Search-as-you-type for the node filters of the list and the board: at most ORG_SEARCH_LIMIT nodes of the
    user's subtree, each a link to the page filtered on it (the other filters kept)."""
    target = "recruitment:board" if request.GET.get("for") == "board" else "recruitment:candidate_list"
    matches = org_search(request.user, request.GET.get("org_q", ""))
    query = request.GET.copy()
    for name in ("org_q", "for", "page"):
        query.pop(name, None)
    results = []
    for match in matches:
        query["org"] = str(match.pk)
        results.append((f"{reverse(target)}?{query.urlencode()}", match))
    context = {"results": results, "searched": bool(request.GET.get("org_q", "").strip()), "limit": ORG_SEARCH_LIMIT}
    return render(request, "recruitment/_org_search_results.html", context)


# ---------------------------------------------------------------- board


@login_required
def board_view(request: HttpRequest) -> HttpResponse:
    root = None
    if request.GET.get("org"):
        root = get_org_for_user(request.user, pk=request.GET["org"])
    elif request.user.org_id is not None:
        root = request.user.org
    else:
        root = visible_orgs(request.user).filter(is_active=True).order_by("path").first()
    columns = board_columns(request.user, root) if root is not None else []
    # One reverse() for every card: a {% url %} tag per card was ~25 ms of a province board's 225 cards.
    prefix, suffix = reverse("recruitment:person_detail", args=[0]).rsplit("0", 1)
    for column in columns:
        for card in column.cards:
            card.url = f"{prefix}{card.person.pk}{suffix}"
    options = [] if request.htmx else filter_node_options(request.user, root)
    context = {
        "org_options": options_html(options, root.pk if root is not None else None),
        "root": root,
        "columns": columns,
        "total": sum(column.count for column in columns),
    }
    template = "recruitment/_board_columns.html" if request.htmx else "recruitment/board.html"
    return render(request, template, context)


# ---------------------------------------------------------------- due


@login_required
def due_view(request: HttpRequest) -> HttpResponse:
    today = _today()
    groups = due_groups(candidates_visible(request.user), today=today)
    items = [item for group in groups for item in group.items]
    context = {
        "today": today,
        "groups": groups,
        "overdue_count": sum(1 for item in items if item.deadline.overdue),
        "total": len(items),
    }
    return render(request, "recruitment/due.html", context)


# ---------------------------------------------------------------- person page


def _over_age(candidate: Candidate) -> bool | None:
    """R-AGE-MAX: over 60 by months on the branch resolution date (None when that date is not recorded)."""
    on = candidate.branch_resolution_date
    if on is None:
        return None
    return rules.age_in_months(candidate.person.birth_date, on) > rules.regime_on(on).age_max_months


def _step_form(candidate: Candidate, to_stage: str | None, data=None) -> StepForm | None:
    if to_stage is None:
        return None
    initial = {"version": candidate.version}
    recognition_orgs = None
    if to_stage == Stage.ADMITTED:
        authority = decision_org_choices(candidate.org).filter(has_admission_authority=True).last()
        if authority is not None:
            initial["deciding_org"] = authority.pk
    if to_stage == Stage.FULL_MEMBER:
        recognition_orgs = recognition_org_choices(candidate.org)
        # The committee that decided the admission normally decides the recognition too.
        if candidate.deciding_org_id and candidate.deciding_org.has_admission_authority:
            initial["recognition_deciding_org"] = candidate.deciding_org_id
    if to_stage == Stage.SYMPATHISER:
        initial["helping_member"] = candidate.person.helping_member
    return StepForm(
        data,
        to_stage=to_stage,
        initial=initial,
        deciding_orgs=decision_org_choices(candidate.org),
        classes=class_choices_for_branch(candidate.org),
        recognition_orgs=recognition_orgs,
        over_age=_over_age(candidate) if to_stage == Stage.ADMITTED else None,
        prefix="step",
    )


def _exit_form(candidate: Candidate, data=None) -> ExitForm | None:
    choices = exit_choices(candidate)
    if not choices:
        return None
    return ExitForm(data, choices=choices, initial={"version": candidate.version}, prefix="exit")


def _person_context(request: HttpRequest, candidate: Candidate, **overrides) -> dict:
    person = candidate.person
    to_stage = next_stage(candidate)
    can_edit = request.user.can_edit_people
    context = {
        "candidate": candidate,
        "person": person,
        "introducers": list(person.introducers.all()),
        "timeline": timeline(candidate, transitions_of(candidate)),
        "deadlines": deadlines_for(candidate, today=_today()),
        "missing_documents": services.missing_documents(candidate),
        "history": history(candidate),
        "next_stage": to_stage,
        "next_stage_label": Stage(to_stage).label if to_stage else "",
        "step_form": _step_form(candidate, to_stage) if can_edit else None,
        "exit_form": _exit_form(candidate) if can_edit else None,
        "introducer_form": IntroducerForm(prefix="intro") if can_edit else None,
        "can_edit": can_edit,
        "stepper": stepper(candidate),
        "exited": candidate.stage in EXITS,
        "verdicts": None,
        "today": _today(),
    }
    context.update(overrides)
    return context


@login_required
def person_detail(request: HttpRequest, person_id: int) -> HttpResponse:
    candidate = get_candidate_of_person_for_user(request.user, person_id)
    audit(action="person.view", request=request, obj=candidate.person, org=candidate.org)
    return render(request, "recruitment/person_detail.html", _person_context(request, candidate))


@login_required
def person_edit(request: HttpRequest, person_id: int) -> HttpResponse:
    candidate = get_candidate_of_person_for_user(request.user, person_id)
    _require_editor(request.user)
    person = candidate.person
    fields = [name for name in PersonEditForm.base_fields if name not in ("version", "branch")]
    initial = {name: getattr(person, name) for name in fields}
    initial.update(version=person.version, branch=person.branch_id)
    form = PersonEditForm(request.POST or None, initial=initial, branches=branch_choices(request.user))
    if request.method == "POST" and form.is_valid():
        data = {name: value for name, value in form.cleaned_data.items() if name != "version"}
        try:
            services.person_update(person=person, data=data, actor=request.user,
                                   expected_version=form.cleaned_data["version"])
        except services.StaleEdit as stale:
            form.add_error(None, _stale_message(stale))
        except ValidationError as error:
            _add_validation_errors(form, error)
        else:
            messages.success(request, "Đã lưu hồ sơ cá nhân.")
            return redirect("recruitment:person_detail", person_id=person.pk)
    status = 422 if form.is_bound and form.errors else 200
    return render(request, "recruitment/person_form.html",
                  {"form": form, "person": person, "title": f"Sửa hồ sơ: {person.full_name}"}, status=status)


def _verdict_data(form: StepForm) -> dict:
    """What the user has typed so far that parses; the rules judge what they can and skip the rest."""
    form.is_valid()
    return {name: value for name, value in getattr(form, "cleaned_data", {}).items() if name != "version"}


@login_required
def step_view(request: HttpRequest, person_id: int) -> HttpResponse:
    candidate = get_candidate_of_person_for_user(request.user, person_id)
    if request.method != "POST":
        return redirect("recruitment:person_detail", person_id=person_id)
    _require_editor(request.user)
    # The step the user was looking at, not the current one: if someone moved the record meanwhile the
    # version check answers "changed by X at …" and the typed input stays on the form.
    posted = request.POST.get("step-to_stage", "")
    to_stage = posted if posted in PIPELINE else next_stage(candidate)
    if to_stage is None:
        messages.error(request, "Hồ sơ không còn bước tiếp theo.")
        return redirect("recruitment:person_detail", person_id=person_id)
    form = _step_form(candidate, to_stage, request.POST)
    verdicts = None
    status = 422
    if form.is_valid():
        data = form.data_for_service()
        helping_member = data.pop("helping_member", None)
        try:
            # Step 2 assigns the helping member, who is recorded on the person: both or neither.
            with transaction.atomic():
                advanced = services.candidate_advance(candidate=candidate, to_stage=to_stage, data=data,
                                                      actor=request.user,
                                                      expected_version=form.cleaned_data["version"])
                person = advanced.person
                if helping_member is not None and helping_member != person.helping_member:
                    services.person_update(person=person, data={"helping_member": helping_member},
                                           actor=request.user, expected_version=person.version)
        except services.RuleRefusal as refusal:
            verdicts = refusal.all_verdicts
            form.add_error(None, "Chưa ghi được: " + "; ".join(v.message for v in refusal.verdicts))
        except services.StaleEdit as stale:
            form.add_error(None, _stale_message(stale))
            status = 409
        except ValidationError as error:
            _add_validation_errors(form, error)
        else:
            messages.success(request, f"Đã ghi nhận: {Stage(to_stage).label}.")
            return redirect("recruitment:person_detail", person_id=person_id)
    context = _person_context(request, candidate, step_form=form, verdicts=verdicts, next_stage=to_stage,
                              next_stage_label=Stage(to_stage).label)
    return render(request, "recruitment/person_detail.html", context, status=status)


@login_required
def step_preview(request: HttpRequest, person_id: int) -> HttpResponse:
    """htmx: which rules pass or fail with what is typed, before anything is saved."""
    candidate = get_candidate_of_person_for_user(request.user, person_id)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    _require_editor(request.user)
    to_stage = next_stage(candidate)
    verdicts = []
    if to_stage is not None:
        form = _step_form(candidate, to_stage, request.POST)
        verdicts = rules.evaluate(candidate=candidate, person=candidate.person, to_stage=to_stage,
                                  data=_verdict_data(form), today=_today())
    return render(request, "recruitment/_verdicts.html", {"verdicts": verdicts, "preview": True})


@login_required
def exit_view(request: HttpRequest, person_id: int) -> HttpResponse:
    candidate = get_candidate_of_person_for_user(request.user, person_id)
    if request.method != "POST":
        return redirect("recruitment:person_detail", person_id=person_id)
    _require_editor(request.user)
    form = _exit_form(candidate, request.POST)
    if form is None:
        messages.error(request, "Hồ sơ ở giai đoạn này không thể đưa ra khỏi danh sách.")
        return redirect("recruitment:person_detail", person_id=person_id)
    if form.is_valid():
        try:
            services.candidate_exit(
                candidate=candidate,
                to_stage=form.cleaned_data["to_stage"],
                exit_date=form.cleaned_data["exit_date"],
                reason=form.cleaned_data["reason"],
                actor=request.user,
                expected_version=form.cleaned_data["version"],
            )
        except services.RuleRefusal as refusal:
            form.add_error(None, "Chưa ghi được: " + "; ".join(v.message for v in refusal.verdicts))
        except services.StaleEdit as stale:
            form.add_error(None, _stale_message(stale))
        else:
            messages.success(request, f"Đã ghi nhận: {Stage(form.cleaned_data['to_stage']).label}.")
            return redirect("recruitment:person_detail", person_id=person_id)
    context = _person_context(request, candidate, exit_form=form, show_exit=True)
    return render(request, "recruitment/person_detail.html", context, status=422)


@login_required
def introducer_add(request: HttpRequest, person_id: int) -> HttpResponse:
    candidate = get_candidate_of_person_for_user(request.user, person_id)
    if request.method != "POST":
        return redirect("recruitment:person_detail", person_id=person_id)
    _require_editor(request.user)
    form = IntroducerForm(request.POST, prefix="intro")
    if form.is_valid():
        services.introducer_add(person=candidate.person, actor=request.user, **form.cleaned_data)
        messages.success(request, f"Đã thêm người giới thiệu: {form.cleaned_data['name']}.")
        return redirect("recruitment:person_detail", person_id=person_id)
    context = _person_context(request, candidate, introducer_form=form, show_introducer=True)
    return render(request, "recruitment/person_detail.html", context, status=422)


# ---------------------------------------------------------------- awareness classes


@login_required
def class_list_view(request: HttpRequest) -> HttpResponse:
    classes = class_list(request.user)
    page = Paginator(classes, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "recruitment/class_list.html", {"page": page, "can_run": request.user.can_run_classes})


@login_required
def class_create(request: HttpRequest) -> HttpResponse:
    _require_class_runner(request.user)
    organisers = visible_orgs(request.user).filter(is_active=True).order_by("path")
    initial = {"organiser": request.user.org_id}
    form = ClassForm(request.POST or None, organisers=organisers, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            awareness_class = services.class_open(actor=request.user, **form.cleaned_data)
        except ValidationError as error:
            _add_validation_errors(form, error)
        else:
            messages.success(request, f"Đã mở lớp {awareness_class.name}.")
            return redirect("recruitment:class_detail", class_id=awareness_class.pk)
    return render(request, "recruitment/class_form.html", {"form": form, "title": "Mở lớp bồi dưỡng nhận thức về Đảng"})


def _class_context(request: HttpRequest, awareness_class, **overrides) -> dict:
    enrolments = class_enrolments(awareness_class)
    can_run = request.user.can_run_classes
    context = {
        "awareness_class": awareness_class,
        "enrolments": enrolments,
        "can_run": can_run,
        "enrol_form": EnrolForm(candidates=enrollable_candidates(request.user, awareness_class)) if can_run else None,
        "results_form": ResultsForm(enrolments=enrolments, initial={"certificate_date": awareness_class.end_date,
                                                                      "number_prefix": f"{awareness_class.code}-"})
        if can_run and enrolments
        else None,
    }
    context.update(overrides)
    return context


@login_required
def class_detail(request: HttpRequest, class_id: int) -> HttpResponse:
    awareness_class = get_class_for_user(request.user, class_id)
    return render(request, "recruitment/class_detail.html", _class_context(request, awareness_class))


@login_required
def class_enrol(request: HttpRequest, class_id: int) -> HttpResponse:
    awareness_class = get_class_for_user(request.user, class_id)
    if request.method != "POST":
        return redirect("recruitment:class_detail", class_id=class_id)
    _require_class_runner(request.user)
    # Any record the user may see is accepted here; the service says who is not eligible (not a sympathiser
    # any more, or outside the organiser's subtree) by name, rather than a bare "invalid choice".
    form = EnrolForm(request.POST, candidates=candidates_visible(request.user).select_related("person", "org"))
    if form.is_valid():
        try:
            added = services.class_enrol(awareness_class=awareness_class, candidates=list(form.cleaned_data["candidates"]),
                                         actor=request.user)
        except ValidationError as error:
            errors = error.messages
        else:
            messages.success(request, f"Đã ghi danh {added} học viên.")
            return redirect("recruitment:class_detail", class_id=class_id)
    else:
        errors = [message for messages_ in form.errors.values() for message in messages_]
    context = _class_context(request, awareness_class, enrol_errors=errors)
    return render(request, "recruitment/class_detail.html", context, status=422)


@login_required
def class_results(request: HttpRequest, class_id: int) -> HttpResponse:
    awareness_class = get_class_for_user(request.user, class_id)
    if request.method != "POST":
        return redirect("recruitment:class_detail", class_id=class_id)
    _require_class_runner(request.user)
    enrolments = class_enrolments(awareness_class)
    form = ResultsForm(request.POST, enrolments=enrolments)
    if form.is_valid():
        try:
            issued = services.class_record_results(
                awareness_class=awareness_class,
                results=form.results(),
                certificate_date=form.cleaned_data["certificate_date"],
                number_prefix=form.cleaned_data["number_prefix"],
                actor=request.user,
            )
        except services.RuleRefusal as refusal:
            form.add_error(None, "Chưa ghi được kết quả: " + "; ".join(v.message for v in refusal.verdicts))
        except ValidationError as error:
            _add_validation_errors(form, error)
        else:
            messages.success(request, f"Đã ghi kết quả và cấp {issued} giấy chứng nhận.")
            return redirect("recruitment:class_detail", class_id=class_id)
    context = _class_context(request, awareness_class, results_form=form)
    return render(request, "recruitment/class_detail.html", context, status=422)

