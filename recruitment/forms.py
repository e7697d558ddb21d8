"""Forms of the pipeline pages. They only parse input; the rules and the writes live in rules.py / services.py."""

import re

from django import forms

from members.models import Education, Gender, MassOrg, OccupationGroup
from orgs.models import OrgUnit
from recruitment.models import PIPELINE, AwarenessClass, Candidate, ClassEnrolment, Stage
from recruitment.stages import OPTIONAL_FIELDS, STAGE_FIELDS
from recruitment.widgets import ChoiceSelect

DATE_FORMAT = "%d/%m/%Y"


class DateInput(forms.DateInput):
    input_type = "text"

    def __init__(self, **kwargs):
        super().__init__(format=DATE_FORMAT, attrs={"placeholder": "dd/mm/yyyy", "autocomplete": "off"}, **kwargs)


def date_field(label: str, required: bool = True) -> forms.DateField:
    return forms.DateField(
        label=label,
        required=required,
        widget=DateInput(),
        input_formats=[DATE_FORMAT, "%Y-%m-%d"],
        error_messages={"invalid": "Ngày không hợp lệ (dd/mm/yyyy).", "required": "Vui lòng nhập ngày."},
    )


class OrgChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: OrgUnit) -> str:
        return ("— " * max(obj.depth - self.base_depth, 0)) + obj.name

    base_depth = 1


def org_field(queryset, *, label: str, required: bool = True) -> OrgChoiceField:
    field = OrgChoiceField(queryset=queryset, label=label, required=required, empty_label="— Chọn —" if required else "Tất cả")
    first = queryset.first()
    field.base_depth = first.depth if first else 1
    return field


class CandidateFilterForm(forms.Form):
    q = forms.CharField(label="Tìm theo tên", required=False)
    stage = forms.ChoiceField(label="Giai đoạn", required=False, choices=[("", "Tất cả giai đoạn"), *Stage.choices],
                              widget=ChoiceSelect)
    org = forms.ModelChoiceField(label="Thuộc tổ chức", required=False, queryset=OrgUnit.objects.none(),
                                 empty_label="Toàn bộ phạm vi")
    occupation_group = forms.ChoiceField(label="Nhóm nghề nghiệp", required=False,
                                         choices=[("", "Tất cả nhóm"), *OccupationGroup.choices], widget=ChoiceSelect)
    gender = forms.ChoiceField(label="Giới tính", required=False, choices=[("", "Tất cả"), *Gender.choices],
                               widget=ChoiceSelect)
    due = forms.ChoiceField(label="Thời hạn", required=False, widget=ChoiceSelect,
                            choices=[("", "Tất cả"), ("due", "Đến hạn hoặc quá hạn"), ("overdue", "Đã quá hạn")])

    def __init__(self, *args, orgs=None, **kwargs):
        super().__init__(*args, **kwargs)
        # Validates the chosen node against `orgs` (the user's subtree) with one lookup; the pages render a short list
        # of options (recruitment.selectors.filter_node_options), so no query is made here for the labels.
        self.fields["org"].queryset = orgs if orgs is not None else OrgUnit.objects.none()

    def to_filters(self):
        """The selector's filters; an invalid or empty form filters nothing."""
        from recruitment.selectors import ListFilters

        if not self.is_valid():
            return ListFilters()
        data = self.cleaned_data
        return ListFilters(stage=data["stage"], org=data["org"], occupation_group=data["occupation_group"],
                           gender=data["gender"], due=data["due"], q=data["q"].strip())


class PersonForm(forms.Form):
    """Identity fields of members.Person (the HoSo sheet's columns)."""

    full_name = forms.CharField(label="Họ và tên", max_length=120)
    birth_date = date_field("Ngày sinh")
    gender = forms.ChoiceField(label="Giới tính", choices=Gender.choices)
    ethnicity = forms.CharField(label="Dân tộc", max_length=40, initial="Kinh")
    religion = forms.CharField(label="Tôn giáo", max_length=40, initial="Không")
    cccd = forms.CharField(label="Số CCCD", max_length=12, required=False,
                           help_text="12 chữ số; để trống nếu chưa có.")
    education = forms.ChoiceField(label="Trình độ học vấn", choices=Education.choices, initial=Education.UPPER_SECONDARY)
    disadvantaged_area_exception = forms.BooleanField(label="Thuộc diện ngoại lệ vùng khó khăn (R-EDU)", required=False)
    is_youth_union_member = forms.BooleanField(label="Đoàn viên", required=False)
    occupation_group = forms.ChoiceField(label="Nhóm nghề nghiệp", choices=OccupationGroup.choices)
    nominating_org = forms.ChoiceField(label="Nguồn giới thiệu", choices=[("", "—"), *MassOrg.choices], required=False)
    helping_member = forms.CharField(label="Đảng viên giúp đỡ", max_length=120, required=False)
    phone = forms.CharField(label="Điện thoại", max_length=20, required=False)
    address = forms.CharField(label="Nơi cư trú", max_length=255, required=False)

    def clean_full_name(self) -> str:
        return " ".join(self.cleaned_data["full_name"].split())

    def clean_cccd(self) -> str | None:
        value = re.sub(r"\s+", "", self.cleaned_data.get("cccd") or "")
        if not value:
            return None
        if not re.fullmatch(r"\d{12}", value):
            raise forms.ValidationError("Số CCCD phải gồm đúng 12 chữ số.")
        return value


class CandidateCreateForm(PersonForm):
    branch = forms.ModelChoiceField(label="Chi bộ", queryset=OrgUnit.objects.none())
    source_date = date_field("Ngày vào danh sách quần chúng ưu tú")

    field_order = ["full_name", "birth_date", "gender", "cccd", "branch", "source_date", "nominating_org"]

    def __init__(self, *args, branches=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["branch"] = org_field(branches, label="Chi bộ")
        self.order_fields(self.field_order)


class PersonEditForm(PersonForm):
    version = forms.IntegerField(widget=forms.HiddenInput)
    branch = forms.ModelChoiceField(label="Chi bộ", queryset=OrgUnit.objects.none(),
                                    help_text="Chọn chi bộ khác khi người này chuyển sinh hoạt; các mốc đã qua vẫn "
                                              "tính cho nơi chúng diễn ra.")

    def __init__(self, *args, branches=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["branch"] = org_field(branches, label="Chi bộ")
        self.fields["branch"].help_text = PersonEditForm.base_fields["branch"].help_text


def _model_field(name: str) -> forms.Field:
    model_field = Candidate._meta.get_field(name)
    label = str(model_field.verbose_name)
    label = label[0].upper() + label[1:]
    required = name not in OPTIONAL_FIELDS
    if model_field.get_internal_type() == "DateField":
        return date_field(label, required=required)
    if model_field.get_internal_type() == "PositiveSmallIntegerField":
        return forms.IntegerField(label=label, required=required, min_value=0,
                                  error_messages={"required": "Vui lòng nhập số."})
    if model_field.is_relation:
        return forms.ModelChoiceField(label=label, required=required, queryset=model_field.related_model.objects.none())
    return forms.CharField(label=label, required=required, max_length=getattr(model_field, "max_length", None))


class StepForm(forms.Form):
    """The data of one step (STAGE_FIELDS) plus the version the user loaded."""

    version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args, to_stage: str, deciding_orgs=None, classes=None, recognition_orgs=None,
                 over_age: bool | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.to_stage = to_stage
        for name in STAGE_FIELDS[to_stage]:
            self.fields[name] = _model_field(name)
        if "over_age_approval_date" in self.fields:
            if over_age is False:
                # R-AGE-MAX: not over 60 (by months) on the branch resolution date, so no approval is asked for.
                # The rule still runs on the server whatever the form shows.
                del self.fields["over_age_approval_date"]
            else:
                self.fields["over_age_approval_date"].help_text = (
                    "Người này trên 60 tuổi (tính theo tháng) vào ngày nghị quyết chi bộ: cần văn bản đồng ý của "
                    "Tỉnh ủy, ký trước ngày quyết định kết nạp (R-AGE-MAX)."
                    if over_age else
                    "Chỉ khi người xin vào Đảng trên 60 tuổi (tính theo tháng) vào ngày nghị quyết chi bộ (R-AGE-MAX).")
        if to_stage == Stage.FULL_MEMBER:
            # R-AUTHORITY for recognition: optional; checked when given.
            self.fields["recognition_deciding_org"] = forms.ModelChoiceField(
                label="Cấp ủy quyết định công nhận", required=False,
                queryset=recognition_orgs if recognition_orgs is not None else OrgUnit.objects.none(),
                empty_label="— Không ghi —",
                help_text="Cấp ủy có thẩm quyền cấp trên của chi bộ; được kiểm tra theo R-AUTHORITY.")
        if "deciding_org" in self.fields:
            self.fields["deciding_org"].queryset = deciding_orgs
        if "awareness_class" in self.fields:
            self.fields["awareness_class"].queryset = classes
        if to_stage == Stage.ADMITTED:
            # R-DECISION-DUE: the 60 working days may be extended once, by up to 30.
            self.fields["decision_extended_days"] = forms.IntegerField(
                label="Gia hạn thời hạn quyết định (ngày làm việc)", required=False, min_value=0, max_value=30,
                initial=0, help_text="Chỉ khi cấp ủy có thẩm quyền đã gia hạn (một lần, tối đa 30 ngày làm việc).")
        if to_stage == Stage.SYMPATHISER:
            self.fields["helping_member"] = forms.CharField(label="Đảng viên được phân công giúp đỡ", max_length=120,
                                                            required=False)

    def data_for_service(self) -> dict:
        data = {name: value for name, value in self.cleaned_data.items() if name != "version"}
        if "decision_extended_days" in data:
            data["decision_extended_days"] = data["decision_extended_days"] or 0
        return data


class ExitForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput)
    to_stage = forms.ChoiceField(label="Hình thức")
    exit_date = date_field("Ngày")
    reason = forms.CharField(label="Lý do", max_length=500, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to_stage"].choices = choices


class IntroducerForm(forms.Form):
    from members.models import Introducer

    kind = forms.ChoiceField(label="Hình thức", choices=Introducer.Kind.choices)
    name = forms.CharField(label="Họ tên / tên tổ chức", max_length=120)
    is_official_member = forms.BooleanField(label="Là đảng viên chính thức", required=False, initial=True)
    months_known = forms.IntegerField(label="Số tháng công tác / sinh sống cùng", min_value=0, initial=12)
    introduced_on = date_field("Ngày giới thiệu")


# ---------------------------------------------------------------- awareness classes


class ClassForm(forms.Form):
    code = forms.CharField(label="Mã lớp", max_length=40)
    name = forms.CharField(label="Tên lớp", max_length=255)
    organiser = forms.ModelChoiceField(label="Đơn vị tổ chức", queryset=OrgUnit.objects.none())
    start_date = date_field("Ngày khai giảng")
    end_date = date_field("Ngày bế giảng")
    place = forms.CharField(label="Địa điểm", max_length=255, required=False)

    def __init__(self, *args, organisers=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organiser"] = org_field(organisers, label="Đơn vị tổ chức")

    def clean_code(self) -> str:
        code = self.cleaned_data["code"].strip()
        if AwarenessClass.objects.filter(code=code).exists():
            raise forms.ValidationError("Mã lớp đã được dùng.")
        return code

    def clean(self):
        data = super().clean()
        if data.get("start_date") and data.get("end_date") and data["end_date"] < data["start_date"]:
            self.add_error("end_date", "Ngày bế giảng không được trước ngày khai giảng.")
        return data


class CandidateChoices(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Candidate) -> str:
        return f"{obj.person.full_name} ({obj.person.birth_date:%d/%m/%Y}) · {obj.org.name}"


class EnrolForm(forms.Form):
    candidates = CandidateChoices(
        label="Cảm tình Đảng", queryset=Candidate.objects.none(), widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Chọn ít nhất một người.",
                        "invalid_choice": "Có người được chọn không còn trong phạm vi của bạn; tải lại trang.",
                        "invalid_pk_value": "Lựa chọn không hợp lệ; tải lại trang."},
    )

    def __init__(self, *args, candidates=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["candidates"].queryset = candidates


class ResultsForm(forms.Form):
    """One result select per enrolment, plus the certificate date and number prefix for those who passed."""

    certificate_date = date_field("Ngày cấp giấy chứng nhận")
    number_prefix = forms.CharField(label="Tiền tố số giấy chứng nhận", max_length=30, initial="CN-NTVĐ/")

    def __init__(self, *args, enrolments=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.enrolments = list(enrolments)
        for enrolment in self.enrolments:
            self.fields[f"result_{enrolment.candidate_id}"] = forms.ChoiceField(
                label=enrolment.candidate.person.full_name,
                choices=ClassEnrolment.Result.choices,
                required=False,
                initial=enrolment.result,
            )

    def results(self) -> dict[int, str]:
        return {
            enrolment.candidate_id: self.cleaned_data[f"result_{enrolment.candidate_id}"]
            for enrolment in self.enrolments
            if self.cleaned_data.get(f"result_{enrolment.candidate_id}")
        }

    def rows(self):
        for enrolment in self.enrolments:
            yield enrolment, self[f"result_{enrolment.candidate_id}"]


PIPELINE_LABELS = [(stage, Stage(stage).label) for stage in PIPELINE]
