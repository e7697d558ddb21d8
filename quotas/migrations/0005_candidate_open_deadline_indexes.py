"""Indexes for "open and overdue" reads of the stored due dates (quotas dashboard, due page).

A due date stays stored after its stage is passed (a province has ~23,000 ceremony dates of people long since
admitted), so an index on the date alone walks every past row to find the few still open. (stage, due date)
finds them directly. Created here (the dashboard's app) with plain SQL, so the Candidate model and the
recruitment migrations are left as they are."""

from django.db import migrations

FIELDS = ["decision_due", "ceremony_due", "recognition_due", "certificate_expiry"]


def _sql(field: str) -> str:
    return f"CREATE INDEX IF NOT EXISTS recruitment_cand_stage_{field}_idx ON recruitment_candidate (stage, {field})"


class Migration(migrations.Migration):
    dependencies = [
        ("quotas", "0004_attainment_digest"),
        ("recruitment", "0003_recognition_deciding_org"),
    ]

    operations = [
        migrations.RunSQL(_sql(field), reverse_sql=f"DROP INDEX IF EXISTS recruitment_cand_stage_{field}_idx")
        for field in FIELDS
    ]
