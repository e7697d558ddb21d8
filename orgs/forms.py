from django import forms

from accounts.models import Role, User
from orgs.models import Kind, OrgUnit, Sector


class DateInput(forms.DateInput):
    input_type = "text"

    def __init__(self, **kwargs):
        super().__init__(format="%d/%m/%Y", attrs={"placeholder": "dd/mm/yyyy"}, **kwargs)


class OrgForm(forms.Form):
    code = forms.CharField(label="Mã", max_length=40)
    name = forms.CharField(label="Tên", max_length=255)
    kind = forms.ChoiceField(label="Cấp", choices=Kind.choices)
    sector = forms.ChoiceField(label="Loại hình", choices=Sector.choices)
    has_admission_authority = forms.BooleanField(label="Có thẩm quyền kết nạp", required=False)

    def __init__(self, *args, instance: OrgUnit | None = None, **kwargs):
        self.instance = instance
        super().__init__(*args, **kwargs)

    def clean_code(self) -> str:
        code = self.cleaned_data["code"].strip()
        clash = OrgUnit.objects.filter(code=code)
        if self.instance is not None:
            clash = clash.exclude(pk=self.instance.pk)
        if clash.exists():
            raise forms.ValidationError("Mã: đã có tổ chức khác dùng mã này.")
        return code


class MoveForm(forms.Form):
    new_parent = forms.ModelChoiceField(label="Chuyển về trực thuộc", queryset=OrgUnit.objects.none())
    effective_date = forms.DateField(label="Ngày hiệu lực", widget=DateInput())
    note = forms.CharField(label="Ghi chú", required=False, max_length=500)

    def __init__(self, *args, candidates=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["new_parent"].queryset = candidates


class MergeForm(forms.Form):
    target = forms.ModelChoiceField(label="Sáp nhập vào", queryset=OrgUnit.objects.none())
    effective_date = forms.DateField(label="Ngày hiệu lực", widget=DateInput())
    note = forms.CharField(label="Ghi chú", required=False, max_length=500)

    def __init__(self, *args, candidates=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["target"].queryset = candidates


class MembersStartForm(forms.Form):
    year = forms.IntegerField(label="Năm", min_value=2000, max_value=2100)
    members_start = forms.IntegerField(label="Số đảng viên đầu năm", min_value=0)


class UserForm(forms.Form):
    username = forms.CharField(label="Tên đăng nhập", max_length=150)
    full_name = forms.CharField(label="Họ và tên", max_length=150)
    org = forms.ModelChoiceField(label="Tổ chức", queryset=OrgUnit.objects.none())
    role = forms.ChoiceField(label="Vai trò", choices=[c for c in Role.choices if c[0] != Role.ADMIN])
    password = forms.CharField(label="Mật khẩu ban đầu", widget=forms.PasswordInput, min_length=12)

    def __init__(self, *args, orgs=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["org"].queryset = orgs

    def clean_username(self) -> str:
        username = self.cleaned_data["username"].strip()
        if User.objects.filter(username=username).exists():
            raise forms.ValidationError("Tên đăng nhập: đã có người dùng này.")
        return username

    def clean_password(self) -> str:
        from django.contrib.auth.password_validation import validate_password

        password = self.cleaned_data["password"]
        validate_password(password)
        return password
