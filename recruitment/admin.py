from django.contrib import admin
from django.db import transaction
from simple_history.admin import SimpleHistoryAdmin

from recruitment.models import AwarenessClass, Candidate, ClassEnrolment, HolidayOverride, Transition


def _refresh_due_dates_on_commit() -> None:
    # A holiday added or removed moves every working-day deadline still open: recompute them in the background.
    from recruitment.tasks import deadlines_refresh

    transaction.on_commit(deadlines_refresh.delay)


@admin.register(HolidayOverride)
class HolidayOverrideAdmin(admin.ModelAdmin):
    list_display = ("date", "is_holiday", "name")
    list_filter = ("is_holiday",)
    date_hierarchy = "date"

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        _refresh_due_dates_on_commit()

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        _refresh_due_dates_on_commit()

    def delete_queryset(self, request, queryset):
        super().delete_queryset(request, queryset)
        _refresh_due_dates_on_commit()


class TransitionInline(admin.TabularInline):
    model = Transition
    extra = 0
    can_delete = False
    fields = ("from_stage", "to_stage", "effective_date", "org", "actor", "source", "at")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Candidate)
class CandidateAdmin(SimpleHistoryAdmin):
    """Read-mostly: stage changes go through the pages (recruitment.services), never through the admin."""

    list_display = ("person", "org", "stage", "decision_date", "ceremony_date", "recognition_date")
    list_filter = ("stage",)
    search_fields = ("person__full_name", "person__name_folded", "person__code")
    raw_id_fields = ("person", "org", "deciding_org", "awareness_class", "updated_by")
    inlines = [TransitionInline]

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields]


class EnrolmentInline(admin.TabularInline):
    model = ClassEnrolment
    extra = 0
    raw_id_fields = ("candidate",)


@admin.register(AwarenessClass)
class AwarenessClassAdmin(SimpleHistoryAdmin):
    list_display = ("code", "name", "organiser", "start_date", "end_date")
    search_fields = ("code", "name")
    raw_id_fields = ("organiser", "created_by")
    inlines = [EnrolmentInline]
