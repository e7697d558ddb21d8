import datetime as dt
import time

from django.core.management.base import BaseCommand, CommandError

from core.synthetic import DEFAULT_AS_OF, ROOT_CODE, generate_province, province_summary
from orgs.models import OrgUnit


class Command(BaseCommand):
    help = "Dựng một tỉnh giả lập để đo hiệu năng (mã tổ chức bắt đầu bằng G.), xác định theo --seed."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--members", type=int, default=100_000, help="số đảng viên đầu năm của tỉnh")
        parser.add_argument("--seed", type=int, default=2026)
        parser.add_argument(
            "--as-of",
            default=DEFAULT_AS_OF.strftime("%d/%m/%Y"),
            help="ngày của dữ liệu (dd/mm/yyyy); mặc định cố định để cùng seed cho cùng dữ liệu",
        )
        parser.add_argument("--if-missing", action="store_true", help="không làm gì nếu tỉnh giả lập đã có")

    def handle(self, *args, members: int, seed: int, as_of: str, if_missing: bool, **options) -> None:
        try:
            day = dt.datetime.strptime(as_of, "%d/%m/%Y").date()
        except ValueError as exc:
            raise CommandError(f"--as-of phải có dạng dd/mm/yyyy: {as_of!r}") from exc
        existing = OrgUnit.objects.filter(code=ROOT_CODE).first()
        if existing is not None:
            if if_missing:
                self.stdout.write(f"Tỉnh giả lập {ROOT_CODE} đã có: {province_summary(existing)['nodes']} tổ chức.")
                return
            raise CommandError(f"Tỉnh giả lập (mã {ROOT_CODE}) đã có; dùng một cơ sở dữ liệu trống hoặc --if-missing.")
        started = time.monotonic()
        self.stdout.write(f"Dựng tỉnh giả lập: {members:,} đảng viên, seed {seed}, dữ liệu đến {day:%d/%m/%Y}")
        try:
            root = generate_province(members=members, seed=seed, as_of=day, stdout=self.stdout)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        summary = province_summary(root)
        self.stdout.write(
            self.style.SUCCESS(
                f"Xong sau {time.monotonic() - started:.1f} s: {summary['nodes']:,} tổ chức, {summary['people']:,} hồ sơ, "
                f"{sum(summary['admitted_by_year'].values()):,} người được kết nạp trong {len(summary['admitted_by_year'])} năm, "
                f"{summary['quotas']:,} chỉ tiêu."
            )
        )
