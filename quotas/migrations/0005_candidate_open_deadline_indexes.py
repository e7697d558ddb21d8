"""Once created the (stage, due date) indexes on recruitment_candidate with plain SQL. They belong to the
Candidate model: recruitment/migrations/0004_candidate_deadline_indexes.py drops these and declares them as
Meta.indexes. Kept, empty, so that databases which applied it keep a consistent migration graph."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("quotas", "0004_attainment_digest"),
        ("recruitment", "0003_recognition_deciding_org"),
    ]

    operations = []
