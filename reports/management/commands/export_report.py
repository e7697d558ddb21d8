import datetime as dt
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from orgs.models import OrgUnit
from reports.content import KINDS
from reports.services import FORMATS, report_generate


class Command(BaseCommand):
    help = "Xuất kế hoạch hoặc báo cáo kết quả của một tổ chức ra .docx / .pdf / .xlsx."

    def add_arguments(self, parser):
        parser.add_argument("--org", required=True, help="mã tổ chức")
        parser.add_argument("--year", required=True, type=int)
        parser.add_argument("--kind", required=True, choices=list(KINDS))
        parser.add_argument("--format", required=True, choices=list(FORMATS))
        parser.add_argument("--output", required=True)
        parser.add_argument("--date", help="ngày ghi trên văn bản, dd/mm/yyyy (mặc định hôm nay)")

    def handle(self, *args, **options):
        org = OrgUnit.objects.filter(code=options["org"]).first()
        if org is None:
            raise CommandError(f"Không có tổ chức mã {options['org']}")
        on = dt.datetime.strptime(options["date"], "%d/%m/%Y").date() if options.get("date") else None
        data = report_generate(org=org, year=options["year"], kind=options["kind"], fmt=options["format"], on=on)
        Path(options["output"]).write_bytes(data)
        self.stderr.write(f"Đã ghi {options['output']} ({len(data):,} byte)")
