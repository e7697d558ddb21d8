from django import forms

from members.models import MassOrg


class QuotaForm(forms.Form):
    admission_quota = forms.IntegerField(label="Chỉ tiêu kết nạp", min_value=0, max_value=1_000_000)
    source_quota = forms.IntegerField(label="Chỉ tiêu tạo nguồn", min_value=0, max_value=1_000_000)
    reason = forms.CharField(label="Lý do điều chỉnh", max_length=500, required=False)
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=0)

    def __init__(self, *args, revising: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if revising:
            # A revision during the year must say why (DOMAIN §5: revisions are shown with their reason).
            self.fields["reason"].required = True


class SuggestForm(forms.Form):
    rate = forms.DecimalField(
        label="Tỷ lệ (% đảng viên đầu năm)", min_value=0, max_value=100, decimal_places=2, initial=3.5
    )


class MassOrgQuotaForm(forms.Form):
    mass_org = forms.ChoiceField(label="Đoàn thể", choices=MassOrg.choices)
    quota = forms.IntegerField(label="Chỉ tiêu giới thiệu", min_value=0, max_value=1_000_000)
