"""The nightly whole-province attainment recompute, as a django-celery-beat periodic task (beat runs with the
DatabaseScheduler, so the schedule lives in the database and admins can see or move it)."""

from django.db import migrations

TASK_NAME = "Tính lại kết quả phát triển đảng viên hằng đêm"


def create_schedule(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    crontab, _ = CrontabSchedule.objects.get_or_create(
        minute="30", hour="1", day_of_week="*", day_of_month="*", month_of_year="*", timezone="Asia/Ho_Chi_Minh"
    )
    PeriodicTask.objects.update_or_create(
        name=TASK_NAME,
        defaults={"task": "quotas.attainment_recompute_year", "crontab": crontab, "enabled": True, "args": "[]", "kwargs": "{}"},
    )


def remove_schedule(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=TASK_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("quotas", "0002_attainmentpending"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create_schedule, remove_schedule)]
