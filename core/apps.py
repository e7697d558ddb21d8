from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = "Hệ thống"

    def ready(self) -> None:
        from core import signals  # noqa: F401 - connects the audit receivers for sign-in/sign-out
