from django.db import models
from simple_history.models import HistoricalRecords

from core.text import fold


class Gender(models.TextChoices):
    MALE = "nam", "Nam"
    FEMALE = "nu", "Nữ"


class Education(models.TextChoices):
    PRIMARY = "tieu_hoc", "Tiểu học"
    LOWER_SECONDARY = "thcs", "Trung học cơ sở"
    UPPER_SECONDARY = "thpt", "Trung học phổ thông"
    VOCATIONAL = "trung_cap", "Trung cấp"
    COLLEGE = "cao_dang", "Cao đẳng"
    UNIVERSITY = "dai_hoc", "Đại học"
    POSTGRADUATE = "sau_dai_hoc", "Sau đại học"


# Ordering used by R-EDU: at least lower-secondary.
EDUCATION_RANK = {value: rank for rank, value in enumerate(Education.values)}


class OccupationGroup(models.TextChoices):
    CIVIL_SERVANT = "cong_chuc", "Cán bộ, công chức"
    PUBLIC_EMPLOYEE = "vien_chuc", "Viên chức"
    ENTERPRISE_STAFF = "nhan_vien_dn", "Nhân viên doanh nghiệp"
    WORKER = "cong_nhan", "Công nhân"
    FARMER = "nong_dan", "Nông dân"
    ARMED_FORCES = "luc_luong_vu_trang", "Lực lượng vũ trang"
    STUDENT = "hoc_sinh_sinh_vien", "Học sinh, sinh viên"
    BUSINESS_OWNER = "chu_doanh_nghiep", "Chủ doanh nghiệp tư nhân"
    OTHER = "khac", "Khác"


class MassOrg(models.TextChoices):
    YOUTH_UNION = "doan_tn", "Đoàn Thanh niên"
    TRADE_UNION = "cong_doan", "Công đoàn"
    WOMEN = "hoi_lhpn", "Hội Liên hiệp Phụ nữ"
    FARMERS = "hoi_nong_dan", "Hội Nông dân"
    VETERANS = "hoi_ccb", "Hội Cựu chiến binh"
    FRONT = "mttq", "Mặt trận Tổ quốc"
    OTHER = "khac", "Khác"


KINH = "Kinh"
NO_RELIGION = "Không"


class Person(models.Model):
    """Identity of someone on the way to membership. The pipeline itself lives in recruitment."""

    code = models.CharField("mã hồ sơ", max_length=40, unique=True)
    full_name = models.CharField("họ và tên", max_length=120)
    name_folded = models.CharField(max_length=120, db_index=True, editable=False)
    birth_date = models.DateField("ngày sinh")
    gender = models.CharField("giới tính", max_length=3, choices=Gender.choices)
    ethnicity = models.CharField("dân tộc", max_length=40, default=KINH)
    religion = models.CharField("tôn giáo", max_length=40, default=NO_RELIGION)
    cccd = models.CharField("số CCCD", max_length=12, unique=True, null=True, blank=True)
    education = models.CharField("trình độ học vấn", max_length=20, choices=Education.choices)
    disadvantaged_area_exception = models.BooleanField(
        "thuộc diện ngoại lệ vùng khó khăn (R-EDU)", default=False
    )
    is_youth_union_member = models.BooleanField("đoàn viên", default=False)
    occupation_group = models.CharField("nhóm nghề nghiệp", max_length=30, choices=OccupationGroup.choices)
    branch = models.ForeignKey(
        "orgs.OrgUnit", on_delete=models.PROTECT, related_name="people", verbose_name="chi bộ"
    )
    nominating_org = models.CharField("nguồn giới thiệu", max_length=20, choices=MassOrg.choices, blank=True)
    helping_member = models.CharField("đảng viên giúp đỡ", max_length=120, blank=True)
    phone = models.CharField("điện thoại", max_length=20, blank=True)
    address = models.CharField("nơi cư trú", max_length=255, blank=True)
    version = models.PositiveIntegerField(default=1)  # optimistic locking: bumped on each save
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey("accounts.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    history = HistoricalRecords(excluded_fields=["name_folded"])

    class Meta:
        verbose_name = "hồ sơ quần chúng"
        verbose_name_plural = "hồ sơ quần chúng"
        indexes = [models.Index(fields=["branch", "name_folded"])]

    def __str__(self) -> str:
        return self.full_name

    def save(self, *args, **kwargs):
        self.name_folded = fold(self.full_name)
        super().save(*args, **kwargs)

    @property
    def is_ethnic_minority(self) -> bool:
        return bool(self.ethnicity) and self.ethnicity.strip().lower() != KINH.lower()

    @property
    def has_religion(self) -> bool:
        return bool(self.religion) and self.religion.strip().lower() not in ("không", "khong", "")


class Introducer(models.Model):
    """An official member introducing the person (3-KNĐ), or the Đoàn/Công đoàn resolution (4-KNĐ)."""

    class Kind(models.TextChoices):
        MEMBER = "member", "Đảng viên giới thiệu"
        UNION_RESOLUTION = "union", "Nghị quyết Đoàn / Công đoàn giới thiệu"

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="introducers")
    kind = models.CharField("hình thức", max_length=10, choices=Kind.choices, default=Kind.MEMBER)
    name = models.CharField("họ tên / tên tổ chức", max_length=120)
    is_official_member = models.BooleanField("là đảng viên chính thức", default=True)
    months_known = models.PositiveSmallIntegerField("số tháng công tác / sinh sống cùng", default=12)
    introduced_on = models.DateField("ngày giới thiệu")
    history = HistoricalRecords()

    class Meta:
        ordering = ["pk"]
        verbose_name = "người giới thiệu"
        verbose_name_plural = "người giới thiệu"
