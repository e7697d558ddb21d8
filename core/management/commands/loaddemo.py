import importlib

from django.core.management.base import BaseCommand

from core.demo import DEMO_PASSWORD, build_demo_tree, ensure_demo_users

# Feature apps add their demo content (people, quotas, classes) through a `load_demo(province, stdout)`.
DEMO_MODULES = ["recruitment.demo", "quotas.demo", "reports.demo"]


class Command(BaseCommand):
    help = "Loads the demo province and demo users (idempotent)."

    def handle(self, *args, **options) -> None:
        province = build_demo_tree()
        for module_name in DEMO_MODULES:
            try:
                module = importlib.import_module(module_name)
            except ModuleNotFoundError as exc:
                if exc.name != module_name:
                    raise
                continue
            module.load_demo(province, self.stdout)
        users = ensure_demo_users()
        self.stdout.write(self.style.SUCCESS(f"Dữ liệu mẫu đã sẵn sàng. Tài khoản mẫu (mật khẩu chung: {DEMO_PASSWORD}):"))
        for user in users:
            self.stdout.write(f"  {user.username:<18} {user.full_name}")
