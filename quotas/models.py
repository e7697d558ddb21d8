from django.conf import settings
from django.db import models
from simple_history.models import HistoricalRecords


class Quota(models.Model):
    """A node's annual quotas, set by the board of its parent (or its own board for the root)."""

    org = models.ForeignKey("orgs.OrgUnit", on_delete=models.CASCADE, related_name="quotas", verbose_name="tổ chức")
    year = models.PositiveSmallIntegerField("năm")
    admission_quota = models.PositiveIntegerField("chỉ tiêu kết nạp", default=0)
    source_quota = models.PositiveIntegerField("chỉ tiêu tạo nguồn", default=0)
    version = models.PositiveIntegerField(default=1)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    history = HistoricalRecords()

    class Meta:
        unique_together = [("org", "year")]
        # "Every node's quota in a year" (attainment recompute, allocation sums): as orgs_yearstat_year_idx.
        indexes = [models.Index(fields=["year", "org", "admission_quota"], name="quotas_quota_year_idx")]
        verbose_name = "chỉ tiêu"
        verbose_name_plural = "chỉ tiêu"


class QuotaRevision(models.Model):
    quota = models.ForeignKey(Quota, on_delete=models.CASCADE, related_name="revisions")
    old_admission_quota = models.PositiveIntegerField(null=True)
    new_admission_quota = models.PositiveIntegerField()
    old_source_quota = models.PositiveIntegerField(null=True)
    new_source_quota = models.PositiveIntegerField()
    reason = models.CharField("lý do điều chỉnh", max_length=500, blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-at", "-pk"]


class MassOrgQuota(models.Model):
    """Introduction quota of a mass organisation (chỉ tiêu giới thiệu đoàn viên, hội viên ưu tú)."""

    org = models.ForeignKey("orgs.OrgUnit", on_delete=models.CASCADE, related_name="mass_org_quotas")
    year = models.PositiveSmallIntegerField("năm")
    mass_org = models.CharField("đoàn thể", max_length=20)
    quota = models.PositiveIntegerField("chỉ tiêu giới thiệu")

    class Meta:
        unique_together = [("org", "year", "mass_org")]


class Attainment(models.Model):
    """Materialised results per node and year, written only by quotas.services.attainment_recompute."""

    org = models.ForeignKey("orgs.OrgUnit", on_delete=models.CASCADE, related_name="attainments")
    year = models.PositiveSmallIntegerField()
    members_start = models.PositiveIntegerField(default=0)
    quota = models.PositiveIntegerField(default=0)
    allocated_to_children = models.PositiveIntegerField(default=0)
    admitted = models.PositiveIntegerField(default=0)
    recognized = models.PositiveIntegerField(default=0)
    sources = models.PositiveIntegerField(default=0)
    by_group = models.JSONField(default=dict)
    digest = models.CharField(max_length=40, blank=True, editable=False)  # services.figures_digest of the figures
    computed_at = models.DateTimeField(auto_now=True)

    class Meta:
        unique_together = [("org", "year")]
        indexes = [
            # "Which nodes admitted anyone in these years" (dashboard flags, reports): a province has ~10,000 rows
            # a year, a few thousand with admissions.
            models.Index(fields=["year", "org"], condition=models.Q(admitted__gt=0), name="quotas_att_admitted_idx"),
        ]


class AttainmentPending(models.Model):
    """Nodes whose attainment must be recomputed: the coalescing queue behind attainment_schedule_recompute.

    A pipeline change inserts one row per (lineage id, year) and enqueues the worker only when it inserted a
    new row; the worker claims rows with one DELETE … RETURNING, so a change arriving while it runs inserts
    again and gets a fresh run, and a burst of changes gets one run."""

    org_id = models.BigIntegerField()
    year = models.PositiveSmallIntegerField()
    queued_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        unique_together = [("org_id", "year")]


class PipelineFigures(models.Model):
    """A node's subtree counted as it stands on `on` (quotas.pipeline.figure_aggregates: candidates per stage,
    overdue deadlines, forecast inputs for `on`'s year). Written only by quotas.services.pipeline_figures_recompute;
    read only on the day it describes."""

    org = models.OneToOneField("orgs.OrgUnit", on_delete=models.CASCADE, related_name="+")
    on = models.DateField()
    figures = models.JSONField(default=dict)
    computed_at = models.DateTimeField(auto_now=True)
