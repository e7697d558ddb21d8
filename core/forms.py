from django import forms

_SELECT = {"class": "form-select form-select-sm"}
_DATE = {"class": "form-control form-control-sm", "placeholder": "dd/mm/yyyy"}


class AuditFilterForm(forms.Form):
    action = forms.ChoiceField(label="Hành động", required=False, widget=forms.Select(attrs=_SELECT))
    actor = forms.ChoiceField(label="Người thực hiện", required=False, widget=forms.Select(attrs=_SELECT))
    date_from = forms.DateField(label="Từ ngày", required=False, widget=forms.DateInput(attrs=_DATE))
    date_to = forms.DateField(label="Đến ngày", required=False, widget=forms.DateInput(attrs=_DATE))

    def __init__(self, *args, actions: list[str], users, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["action"].choices = [("", "Tất cả")] + [(a, action_label(a)) for a in actions]
        self.fields["actor"].choices = [("", "Tất cả")] + [
            (str(u.pk), f"{u.username} ({u.get_full_name()})" if u.get_full_name() else u.username) for u in users
        ]

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and start > end:
            raise forms.ValidationError("Ngày bắt đầu phải trước ngày kết thúc.")
        return cleaned


ACTION_LABELS = {
    "login": "Đăng nhập",
    "logout": "Đăng xuất",
    "login_failed": "Đăng nhập thất bại",
    "person.view": "Xem hồ sơ",
    "person.update": "Sửa hồ sơ",
    "candidate.create": "Thêm hồ sơ",
    "candidate.advance": "Chuyển giai đoạn",
    "candidate.exit": "Đưa ra khỏi danh sách",
    "candidate.transfer": "Chuyển sinh hoạt",
    "introducer.add": "Thêm người giới thiệu",
    "class.open": "Mở lớp",
    "class.enrol": "Ghi danh lớp",
    "class.results": "Ghi kết quả lớp",
    "quota.update": "Sửa chỉ tiêu",
    "report.download": "Tải văn bản",
}


OBJECT_LABELS = {
    "accounts.user": "Tài khoản",
    "members.person": "Hồ sơ",
    "recruitment.candidate": "Hồ sơ phát triển",
    "recruitment.awarenessclass": "Lớp nhận thức",
    "quotas.quota": "Chỉ tiêu",
    "core.job": "Văn bản / công việc",
    "orgs.orgunit": "Tổ chức",
}


def object_label(object_type: str) -> str:
    return OBJECT_LABELS.get(object_type, object_type)


def action_label(action: str) -> str:
    return ACTION_LABELS.get(action, action)


# Vietnamese names of the keys services put in AuditLog.detail (never personal data, only what changed).
DETAIL_LABELS = {
    "year": "năm",
    "admission_quota": "chỉ tiêu kết nạp",
    "source_quota": "chỉ tiêu tạo nguồn",
    "version": "phiên bản",
    "fields": "trường thay đổi",
    "count": "số lượng",
    "counts": "số lượng",
    "to": "đến",
    "from": "từ",
    "into": "sáp nhập vào",
    "source": "nguồn",
    "kind": "loại",
    "format": "định dạng",
    "stage": "giai đoạn",
    "from_stage": "từ giai đoạn",
    "to_stage": "đến giai đoạn",
    "quota": "chỉ tiêu",
    "mass_org": "đoàn thể",
    "dry_run": "chạy thử",
    "errors": "số lỗi",
    "days": "số ngày",
    "filters": "bộ lọc",
    "field": "trường",
    "recorded": "đã ghi",
    "passed": "đạt",
    "page": "trang",
    "tab": "mục",
    "ok": "thành công",
    "rows": "số dòng",
    "reason": "lý do",
}


def detail_items(detail: dict) -> list[tuple[str, object]]:
    return [(DETAIL_LABELS.get(key, key), value) for key, value in (detail or {}).items()]
