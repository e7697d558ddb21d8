from django.conf import settings
from django.db import models
from simple_history.models import HistoricalRecords
from treebeard.mp_tree import MP_Node

from core.text import fold


class Kind(models.TextChoices):
    PROVINCE = "tinh", "Tỉnh ủy / Thành ủy trực thuộc Trung ương"
    UPPER = "cap_tren_co_so", "Cấp trên cơ sở (Thành ủy, Huyện ủy, Đảng ủy xã/phường…)"
    BASE = "co_so", "Tổ chức cơ sở đảng"
    SUB = "bo_phan", "Đảng bộ bộ phận"
    BRANCH = "chi_bo", "Chi bộ trực thuộc"


def holds_people(kind: str, numchild: int) -> bool:
    """A node people belong to: a sub-branch (chi bộ), or a base organisation without sub-branches (chi bộ cơ sở)."""
    return kind == Kind.BRANCH or (kind == Kind.BASE and numchild == 0)


# holds_people() as a filter.
HOLDS_PEOPLE_Q = models.Q(kind=Kind.BRANCH) | models.Q(kind=Kind.BASE, numchild=0)


class Sector(models.TextChoices):
    RESIDENTIAL = "khu_dan_cu", "Khu dân cư (thôn, tổ dân phố)"
    ADMIN = "hanh_chinh", "Cơ quan hành chính"
    EDUCATION = "giao_duc", "Sự nghiệp giáo dục"
    HEALTH = "y_te", "Sự nghiệp y tế"
    OTHER_PUBLIC = "su_nghiep_khac", "Sự nghiệp khác"
    STATE_ENTERPRISE = "dn_nha_nuoc", "Doanh nghiệp nhà nước"
    PRIVATE = "dn_tu_nhan", "Đơn vị kinh tế tư nhân"
    FDI = "dn_fdi", "Doanh nghiệp có vốn đầu tư nước ngoài"
    MILITARY = "quan_su", "Quân sự"
    POLICE = "cong_an", "Công an"
    SCHOOL = "truong_hoc", "Trường học (THPT, GDNN-GDTX)"
    UNIVERSITY = "dai_hoc", "Cao đẳng, đại học"
    OTHER = "khac", "Khác"


class OrgUnit(MP_Node):
    """A node of the committee tree. Depth and level names are data: the tree changed shape on 1/7/2025."""

    steplen = 4
    node_order_by = ["code"]

    code = models.CharField("mã", max_length=40, unique=True)
    name = models.CharField("tên", max_length=255)
    name_folded = models.CharField(max_length=255, db_index=True, editable=False)
    kind = models.CharField("cấp", max_length=20, choices=Kind.choices)
    sector = models.CharField("loại hình", max_length=20, choices=Sector.choices, default=Sector.OTHER)
    has_admission_authority = models.BooleanField("thẩm quyền kết nạp", default=False)
    # IDs of the ancestors and the node itself, "/1/5/9/": copied onto events so that a later move
    # or merge never changes where past admissions were counted.
    lineage = models.CharField(max_length=255, blank=True, db_index=True, editable=False)
    is_active = models.BooleanField("đang hoạt động", default=True)
    dissolved_on = models.DateField("ngày giải thể / sáp nhập", null=True, blank=True)
    merged_into = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name="sáp nhập vào"
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = "tổ chức đảng"
        verbose_name_plural = "tổ chức đảng"

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        self.name_folded = fold(self.name)
        super().save(*args, **kwargs)

    @property
    def holds_people(self) -> bool:
        return holds_people(self.kind, self.numchild)

    @property
    def is_chi_bo_co_so(self) -> bool:
        """A base organisation without sub-branches: its branch resolution goes straight up."""
        return self.kind == Kind.BASE and self.numchild == 0

    def lineage_ids(self) -> list[int]:
        return [int(part) for part in self.lineage.strip("/").split("/") if part]


class OrgYearStat(models.Model):
    """Members at the start of a year (from the central member database): the denominator of every rate."""

    org = models.ForeignKey(OrgUnit, on_delete=models.CASCADE, related_name="year_stats", verbose_name="tổ chức")
    year = models.PositiveSmallIntegerField("năm")
    members_start = models.PositiveIntegerField("số đảng viên đầu năm")
    history = HistoricalRecords()

    class Meta:
        unique_together = [("org", "year")]
        # "Every node's members in a year" (attainment recompute, dashboards): a province keeps ten years of
        # ~10,000 rows; without this the year is found by reading all of them.
        indexes = [models.Index(fields=["year", "org", "members_start"], name="orgs_yearstat_year_idx")]
        ordering = ["org", "year"]
        verbose_name = "số đảng viên đầu năm"
        verbose_name_plural = "số đảng viên đầu năm"


class OrgChange(models.Model):
    """A reorganisation: a node moved under another parent, or merged into another node."""

    class ChangeKind(models.TextChoices):
        MOVE = "move", "Chuyển trực thuộc"
        MERGE = "merge", "Sáp nhập"

    org = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="changes", verbose_name="tổ chức")
    kind = models.CharField("loại thay đổi", max_length=10, choices=ChangeKind.choices)
    effective_date = models.DateField("ngày hiệu lực")
    old_parent = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, null=True, related_name="+")
    new_parent = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, null=True, related_name="+")
    target = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, null=True, related_name="+")
    note = models.CharField("ghi chú", max_length=500, blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-effective_date", "-at"]
        verbose_name = "thay đổi tổ chức"
        verbose_name_plural = "thay đổi tổ chức"
