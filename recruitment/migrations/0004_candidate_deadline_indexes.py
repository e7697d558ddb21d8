"""The due-date indexes as Candidate.Meta.indexes. quotas 0005/0006 once created them with plain SQL under longer
names; databases that applied those drop them here first (IF EXISTS: a new database never had them)."""

from django.conf import settings
from django.db import migrations, models


OLD_NAMES = [
    "recruitment_cand_stage_decision_due_idx",
    "recruitment_cand_stage_ceremony_due_idx",
    "recruitment_cand_stage_recognition_due_idx",
    "recruitment_cand_stage_certificate_expiry_idx",
    "recruitment_cand_open_decision_due_idx",
    "recruitment_cand_open_certificate_expiry_idx",
]


class Migration(migrations.Migration):

    dependencies = [
        ('members', '0001_initial'),
        ('orgs', '0001_initial'),
        ('recruitment', '0003_recognition_deciding_org'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RunSQL(
            [f"DROP INDEX IF EXISTS {name}" for name in OLD_NAMES],
            reverse_sql=migrations.RunSQL.noop,
        ),
        migrations.AddIndex(
            model_name='candidate',
            index=models.Index(fields=['stage', 'decision_due'], name='cand_stage_decision_due_idx'),
        ),
        migrations.AddIndex(
            model_name='candidate',
            index=models.Index(fields=['stage', 'ceremony_due'], name='cand_stage_ceremony_due_idx'),
        ),
        migrations.AddIndex(
            model_name='candidate',
            index=models.Index(fields=['stage', 'recognition_due'], name='cand_stage_recognition_due_idx'),
        ),
        migrations.AddIndex(
            model_name='candidate',
            index=models.Index(fields=['stage', 'certificate_expiry'], name='cand_stage_cert_expiry_idx'),
        ),
        migrations.AddIndex(
            model_name='candidate',
            index=models.Index(condition=models.Q(('stage__in', ['nq_chi_bo', 'nq_dang_uy'])), fields=['decision_due'], name='cand_open_decision_due_idx'),
        ),
        migrations.AddIndex(
            model_name='candidate',
            index=models.Index(condition=models.Q(('stage__in', ['da_hoc_lop', 'ho_so'])), fields=['certificate_expiry'], name='cand_open_cert_expiry_idx'),
        ),
    ]
