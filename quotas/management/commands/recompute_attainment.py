import datetime as dt
import time

from django.core.management.base import BaseCommand, CommandError

from orgs.models import OrgUnit
from quotas.services import attainment_recompute, pipeline_figures_recompute


class Command(BaseCommand):
    help = "Tính lại kết quả phát triển đảng viên (đồng bộ) cho một năm: toàn tỉnh hoặc một tổ chức và cây con."

    def add_arguments(self, parser):
        parser.add_argument("--year", type=int, required=True)
        parser.add_argument("--org", help="Mã tổ chức (mặc định: toàn bộ)")

    def handle(self, *args, year: int, org: str | None = None, **options):
        node = None
        if org:
            node = OrgUnit.objects.filter(code=org).first()
            if node is None:
                raise CommandError(f"Không có tổ chức mã {org}")
        started = time.monotonic()
        written = attainment_recompute(year=year, org=node)
        today = dt.date.today()
        if year == today.year:
            pipeline_figures_recompute(today=today)  # the dashboard's counts of the pipeline, as the nightly run does
        self.stdout.write(
            f"Đã tính lại năm {year} cho {node.name if node else 'toàn bộ'}: {written} tổ chức có số liệu thay đổi, "
            f"{time.monotonic() - started:.2f} giây."
        )
