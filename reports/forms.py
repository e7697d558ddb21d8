import datetime as dt

from django import forms

from reports.content import KINDS

FORMAT_CHOICES = [("docx", "Word (.docx)"), ("pdf", "PDF (.pdf)"), ("xlsx", "Excel (.xlsx)")]
MAX_UPLOAD_BYTES = 20 * 1024 * 1024


class OrgChoiceField(forms.ModelChoiceField):
    top_depth = 1  # depth of the user's own node: indentation is relative to it

    def label_from_instance(self, obj) -> str:
        return f"{'— ' * max(obj.depth - self.top_depth, 0)}{obj.name}"


class DocumentForm(forms.Form):
    org = OrgChoiceField(label="Tổ chức", queryset=None, empty_label=None)
    year = forms.IntegerField(label="Năm", min_value=2000, max_value=2100)
    kind = forms.ChoiceField(label="Loại văn bản", choices=list(KINDS.items()))
    format = forms.ChoiceField(label="Định dạng", choices=FORMAT_CHOICES)

    def __init__(self, *args, orgs=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["org"].queryset = orgs
        self.fields["org"].top_depth = min((o.depth for o in orgs[:1]), default=1)
        self.fields["year"].initial = dt.date.today().year


class ImportForm(forms.Form):
    workbook = forms.FileField(label="Tệp Excel (.xlsx)")
    dry_run = forms.BooleanField(label="Chỉ kiểm tra, không ghi dữ liệu", required=False, initial=True)

    def clean_workbook(self):
        upload = self.cleaned_data["workbook"]
        if not upload.name.lower().endswith(".xlsx"):
            raise forms.ValidationError("Chỉ nhận tệp Excel .xlsx")
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError("Tệp quá lớn (tối đa 20 MB)")
        return upload
