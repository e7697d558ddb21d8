from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from accounts.models import User


@admin.register(User)
class ProductUserAdmin(UserAdmin):
    fieldsets = UserAdmin.fieldsets + (("Tổ chức", {"fields": ("org", "role")}),)
    list_display = ("username", "first_name", "last_name", "org", "role", "is_active")
    list_filter = ("role", "is_active")
    raw_id_fields = ("org",)
