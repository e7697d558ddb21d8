from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from reports.importer import import_workbook


class Command(BaseCommand):
    help = "Nhập tệp Excel (ToChuc, DangVienDauNam, ChiTieu, HoSo) theo nguyên tắc tất cả hoặc không."

    def add_arguments(self, parser):
        parser.add_argument("path")
        parser.add_argument("--dry-run", action="store_true", help="chỉ kiểm tra, không ghi")

    def handle(self, *args, path: str, dry_run: bool, **options):
        file = Path(path)
        if not file.is_file():
            raise CommandError(f"Không tìm thấy tệp {path}")
        result = import_workbook(data=file.read_bytes(), actor=None, dry_run=dry_run)
        if result.errors:
            # One line per refusal: sheet, row, column, rule ID, message (tab-separated).
            for error in result.errors:
                self.stdout.write(error.line())
            self.stderr.write(f"{len(result.errors)} lỗi: không ghi dữ liệu nào.")
            raise SystemExit(1)
        summary = ", ".join(
            f"{sheet}: +{c['created']} ~{c['updated']} ={c['unchanged']}" for sheet, c in result.counts.items()
        )
        verb = "Kiểm tra xong (không ghi)" if dry_run else "Đã nhập"
        self.stderr.write(f"{verb}: {summary or 'không có dòng nào'}; {len(result.warnings)} cảnh báo.")
