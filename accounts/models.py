from django.contrib.auth.models import AbstractUser
from django.db import models


class Role(models.TextChoices):
    STAFF = "staff", "Cán bộ chi bộ / cơ sở"
    BOARD = "board", "Ban Tổ chức"
    TRAINING = "training", "Trung tâm Chính trị"
    VIEWER = "viewer", "Lãnh đạo (chỉ xem)"
    ADMIN = "admin", "Quản trị hệ thống"


class User(AbstractUser):
    """Every user belongs to one organisation node and sees only its subtree."""

    org = models.ForeignKey(
        "orgs.OrgUnit", on_delete=models.PROTECT, null=True, blank=True, related_name="users", verbose_name="tổ chức"
    )
    role = models.CharField("vai trò", max_length=10, choices=Role.choices, default=Role.VIEWER)

    class Meta:
        verbose_name = "người dùng"
        verbose_name_plural = "người dùng"

    @property
    def can_edit_people(self) -> bool:
        return self.role in (Role.STAFF, Role.BOARD, Role.ADMIN)

    @property
    def can_manage_quotas(self) -> bool:
        return self.role in (Role.BOARD, Role.ADMIN)

    @property
    def can_manage_orgs(self) -> bool:
        return self.role in (Role.BOARD, Role.ADMIN)

    @property
    def can_run_classes(self) -> bool:
        return self.role in (Role.TRAINING, Role.BOARD, Role.ADMIN)

    @property
    def sees_full_cccd(self) -> bool:
        """Staff verify identity when they take a dossier; boards and viewers only need the mask."""
        return self.role in (Role.STAFF, Role.ADMIN)
