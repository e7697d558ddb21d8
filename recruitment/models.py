from django.conf import settings
from django.db import models
from simple_history.models import HistoricalRecords


class Stage(models.TextChoices):
    OUTSTANDING = "uu_tu", "Quần chúng ưu tú"
    SYMPATHISER = "cam_tinh", "Cảm tình Đảng"
    COURSE_DONE = "da_hoc_lop", "Đã học lớp nhận thức về Đảng"
    DOSSIER = "ho_so", "Làm hồ sơ"
    BRANCH_RESOLUTION = "nq_chi_bo", "Chi bộ đề nghị kết nạp"
    BASE_RESOLUTION = "nq_dang_uy", "Đảng ủy cơ sở đề nghị"
    ADMITTED = "quyet_dinh", "Có quyết định kết nạp"
    PROBATIONARY = "du_bi", "Đảng viên dự bị"
    FULL_MEMBER = "chinh_thuc", "Đảng viên chính thức"
    REMOVED = "ra_khoi_ds", "Đưa ra khỏi danh sách"
    NOT_ADMITTED = "khong_ket_nap", "Không được kết nạp"
    STRUCK_OFF = "xoa_ten", "Xóa tên đảng viên dự bị"


PIPELINE = [
    Stage.OUTSTANDING,
    Stage.SYMPATHISER,
    Stage.COURSE_DONE,
    Stage.DOSSIER,
    Stage.BRANCH_RESOLUTION,
    Stage.BASE_RESOLUTION,
    Stage.ADMITTED,
    Stage.PROBATIONARY,
    Stage.FULL_MEMBER,
]
EXITS = [Stage.REMOVED, Stage.NOT_ADMITTED, Stage.STRUCK_OFF]
ACTIVE_STAGES = PIPELINE[:-1]


class AwarenessClass(models.Model):
    """A "lớp bồi dưỡng nhận thức về Đảng" opened by a training centre."""

    code = models.CharField("mã lớp", max_length=40, unique=True)
    name = models.CharField("tên lớp", max_length=255)
    organiser = models.ForeignKey(
        "orgs.OrgUnit", on_delete=models.PROTECT, related_name="awareness_classes", verbose_name="đơn vị tổ chức"
    )
    start_date = models.DateField("ngày khai giảng")
    end_date = models.DateField("ngày bế giảng")
    place = models.CharField("địa điểm", max_length=255, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")
    history = HistoricalRecords()

    class Meta:
        ordering = ["-start_date"]
        verbose_name = "lớp bồi dưỡng nhận thức về Đảng"
        verbose_name_plural = "lớp bồi dưỡng nhận thức về Đảng"

    def __str__(self) -> str:
        return self.name


class Candidate(models.Model):
    """One person's way through the pipeline: every milestone's data, the current stage, and
    lineage snapshots so that attainment stays where it happened after reorganisations."""

    person = models.OneToOneField("members.Person", on_delete=models.CASCADE, related_name="candidate")
    org = models.ForeignKey(
        "orgs.OrgUnit", on_delete=models.PROTECT, related_name="candidates", verbose_name="chi bộ"
    )  # kept equal to person.branch by the services; denormalised so every list filters on one join
    stage = models.CharField("giai đoạn", max_length=20, choices=Stage.choices, default=Stage.OUTSTANDING, db_index=True)

    # 1. outstanding mass
    source_date = models.DateField("ngày vào danh sách ưu tú", null=True, blank=True)
    # 2. sympathiser
    sympathiser_date = models.DateField("ngày nghị quyết cảm tình Đảng", null=True, blank=True)
    sympathiser_lineage = models.CharField(max_length=255, blank=True)
    # 3. awareness course
    awareness_class = models.ForeignKey(
        AwarenessClass, on_delete=models.PROTECT, null=True, blank=True, related_name="candidates", verbose_name="lớp"
    )
    certificate_number = models.CharField("số giấy chứng nhận", max_length=40, blank=True)
    certificate_date = models.DateField("ngày cấp giấy chứng nhận", null=True, blank=True)
    course_result = models.CharField("kết quả học tập", max_length=20, blank=True)
    # 4. dossier
    application_date = models.DateField("ngày đơn xin vào Đảng (1-KNĐ)", null=True, blank=True)
    personal_history_date = models.DateField("ngày lý lịch (2-KNĐ)", null=True, blank=True)
    personal_history_verified_date = models.DateField("ngày thẩm tra lý lịch", null=True, blank=True)
    opinions_date = models.DateField("ngày tổng hợp ý kiến (5-KNĐ)", null=True, blank=True)
    # 5. branch resolution
    branch_resolution_date = models.DateField("ngày nghị quyết chi bộ", null=True, blank=True)
    branch_votes_for = models.PositiveSmallIntegerField("số phiếu tán thành (chi bộ)", null=True, blank=True)
    branch_members_summoned = models.PositiveSmallIntegerField(
        "số đảng viên chính thức triệu tập", null=True, blank=True
    )
    # 6. base-committee resolution
    base_resolution_date = models.DateField("ngày nghị quyết đảng ủy", null=True, blank=True)
    base_votes_for = models.PositiveSmallIntegerField("số phiếu tán thành (đảng ủy)", null=True, blank=True)
    base_committee_members = models.PositiveSmallIntegerField("số cấp ủy viên", null=True, blank=True)
    # 7. admission decision
    deciding_org = models.ForeignKey(
        "orgs.OrgUnit", on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name="cấp ủy quyết định"
    )
    decision_number = models.CharField("số quyết định kết nạp", max_length=40, blank=True)
    decision_date = models.DateField("ngày quyết định kết nạp", null=True, blank=True, db_index=True)
    decision_extended_days = models.PositiveSmallIntegerField("gia hạn (ngày làm việc)", default=0)
    over_age_approval_date = models.DateField("ngày văn bản đồng ý của Tỉnh ủy (trên 60 tuổi)", null=True, blank=True)
    admitted_lineage = models.CharField(max_length=255, blank=True, db_index=True)
    # 8. probationary
    ceremony_date = models.DateField("ngày lễ kết nạp", null=True, blank=True)
    new_member_course_date = models.DateField("ngày học lớp đảng viên mới", null=True, blank=True)
    # 9. full member
    recognition_branch_resolution_date = models.DateField("ngày nghị quyết chi bộ (công nhận)", null=True, blank=True)
    recognition_votes_for = models.PositiveSmallIntegerField("số phiếu tán thành (công nhận)", null=True, blank=True)
    recognition_members_summoned = models.PositiveSmallIntegerField(
        "số đảng viên chính thức triệu tập (công nhận)", null=True, blank=True
    )
    recognition_deciding_org = models.ForeignKey(
        "orgs.OrgUnit", on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name="cấp ủy quyết định công nhận",
    )  # optional: when given, R-AUTHORITY checks it as for the admission
    recognition_decision_number = models.CharField("số quyết định công nhận", max_length=40, blank=True)
    recognition_decision_date = models.DateField("ngày ký quyết định công nhận", null=True, blank=True)
    recognition_date = models.DateField("ngày công nhận chính thức", null=True, blank=True, db_index=True)
    recognized_lineage = models.CharField(max_length=255, blank=True)
    # exits
    exit_date = models.DateField("ngày ra khỏi danh sách", null=True, blank=True)
    exit_reason = models.CharField("lý do", max_length=500, blank=True)

    # Computed due dates (recruitment.deadlines.due_fields), rewritten by the services on every change so the
    # "due and overdue" page and the dashboards filter in SQL. Working days make them impossible to compute
    # in SQL; a holiday correction in the admin recomputes the open ones.
    decision_due = models.DateField("hạn quyết định kết nạp", null=True, blank=True, db_index=True)
    ceremony_due = models.DateField("hạn tổ chức lễ kết nạp", null=True, blank=True, db_index=True)
    probation_end = models.DateField("ngày hết thời gian dự bị", null=True, blank=True, db_index=True)
    recognition_due = models.DateField("hạn xét công nhận chính thức", null=True, blank=True, db_index=True)
    certificate_expiry = models.DateField("giấy chứng nhận hết hạn", null=True, blank=True, db_index=True)

    version = models.PositiveIntegerField(default=1)  # optimistic locking
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    history = HistoricalRecords()

    class Meta:
        verbose_name = "quá trình phát triển đảng viên"
        verbose_name_plural = "quá trình phát triển đảng viên"
        indexes = [
            models.Index(fields=["org", "stage"]),
            # "Open and overdue" reads of the stored due dates (dashboard, due page): a due date stays stored after
            # its stage is passed (a province keeps ~23,000 ceremony dates of people long admitted), so an index on
            # the date alone walks every past row to find the few still open; (stage, date) finds them directly.
            models.Index(fields=["stage", "decision_due"], name="cand_stage_decision_due_idx"),
            models.Index(fields=["stage", "ceremony_due"], name="cand_stage_ceremony_due_idx"),
            models.Index(fields=["stage", "recognition_due"], name="cand_stage_recognition_due_idx"),
            models.Index(fields=["stage", "certificate_expiry"], name="cand_stage_cert_expiry_idx"),
            # Deadlines open in two stages (recruitment.deadlines.DEADLINE_KINDS): the planner would walk the date
            # index in date order filtering `stage IN (a, b)` row by row; these hold only the open rows.
            models.Index(
                fields=["decision_due"],
                condition=models.Q(stage__in=[Stage.BRANCH_RESOLUTION, Stage.BASE_RESOLUTION]),
                name="cand_open_decision_due_idx",
            ),
            models.Index(
                fields=["certificate_expiry"],
                condition=models.Q(stage__in=[Stage.COURSE_DONE, Stage.DOSSIER]),
                name="cand_open_cert_expiry_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.person} ({self.get_stage_display()})"


class Transition(models.Model):
    """The log of every stage change: who, when, from, to, the rules' verdicts and the documents."""

    candidate = models.ForeignKey(Candidate, on_delete=models.CASCADE, related_name="transitions")
    from_stage = models.CharField(max_length=20, choices=Stage.choices, blank=True)
    to_stage = models.CharField(max_length=20, choices=Stage.choices)
    effective_date = models.DateField("ngày")
    org = models.ForeignKey("orgs.OrgUnit", on_delete=models.PROTECT, related_name="+")
    org_lineage = models.CharField(max_length=255)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    at = models.DateTimeField(auto_now_add=True)
    verdicts = models.JSONField(default=list, blank=True)
    data = models.JSONField(default=dict, blank=True)
    source = models.CharField(max_length=20, default="web")  # web | import | api

    class Meta:
        ordering = ["at", "pk"]
        verbose_name = "chuyển giai đoạn"
        verbose_name_plural = "chuyển giai đoạn"


class ClassEnrolment(models.Model):
    class Result(models.TextChoices):
        PENDING = "", "Chưa có kết quả"
        PASSED = "dat", "Đạt"
        FAILED = "khong_dat", "Không đạt"

    awareness_class = models.ForeignKey(AwarenessClass, on_delete=models.CASCADE, related_name="enrolments")
    candidate = models.ForeignKey(Candidate, on_delete=models.CASCADE, related_name="enrolments")
    result = models.CharField("kết quả", max_length=10, choices=Result.choices, blank=True, default="")
    certificate_number = models.CharField("số giấy chứng nhận", max_length=40, blank=True)
    certificate_date = models.DateField("ngày cấp", null=True, blank=True)

    class Meta:
        unique_together = [("awareness_class", "candidate")]
        verbose_name = "học viên"
        verbose_name_plural = "học viên"


class HolidayOverride(models.Model):
    """Admin corrections to the holiday calendar (e.g. a compensatory day off announced late)."""

    date = models.DateField("ngày", unique=True)
    is_holiday = models.BooleanField("là ngày nghỉ", default=True)
    name = models.CharField("tên ngày", max_length=120, blank=True)

    class Meta:
        ordering = ["date"]
        verbose_name = "điều chỉnh ngày nghỉ"
        verbose_name_plural = "điều chỉnh ngày nghỉ"
