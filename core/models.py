from django.conf import settings
from django.db import models


class Job(models.Model):
    """A long-running background job (export, import, recompute) whose progress the UI polls."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Đang chờ"
        RUNNING = "running", "Đang chạy"
        DONE = "done", "Hoàn thành"
        FAILED = "failed", "Lỗi"

    kind = models.CharField("loại việc", max_length=40)
    status = models.CharField("trạng thái", max_length=10, choices=Status.choices, default=Status.QUEUED)
    progress = models.PositiveIntegerField("tiến độ (%)", default=0)
    message = models.CharField("thông báo", max_length=500, blank=True)
    params = models.JSONField("tham số", default=dict, blank=True)
    result = models.JSONField("kết quả", default=dict, blank=True)
    file = models.FileField("tệp", upload_to="jobs/%Y/%m/", blank=True)
    org = models.ForeignKey("orgs.OrgUnit", on_delete=models.PROTECT, related_name="+", verbose_name="tổ chức")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "công việc nền"
        verbose_name_plural = "công việc nền"

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk} ({self.get_status_display()})"


class AuditLog(models.Model):
    """Append-only trail of reads, exports and changes. Never stores the personal data itself."""

    at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    action = models.CharField("hành động", max_length=40)
    object_type = models.CharField("đối tượng", max_length=60, blank=True)
    object_id = models.CharField("mã đối tượng", max_length=60, blank=True)
    org = models.ForeignKey(
        "orgs.OrgUnit", on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name="tổ chức"
    )
    org_path = models.CharField(max_length=255, blank=True, db_index=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    detail = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-at"]
        verbose_name = "nhật ký"
        verbose_name_plural = "nhật ký"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise RuntimeError("AuditLog is append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise RuntimeError("AuditLog is append-only")
