from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.translation import gettext_lazy as _

from cem.admin import DateRangeAdminMixin

from .models import Team, User


class MemberInline(DateRangeAdminMixin, admin.TabularInline):
    model = User
    fk_name = "team"
    fields = ["username", "first_name", "last_name", "role", "department", "is_active"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True
    verbose_name_plural = _("members")


@admin.register(Team)
class TeamAdmin(DateRangeAdminMixin, admin.ModelAdmin):
    list_display = ["name", "manager", "created_at"]
    search_fields = ["name", "manager__username", "manager__last_name"]
    autocomplete_fields = ["manager"]
    inlines = [MemberInline]


@admin.register(User)
class UserAdmin(DateRangeAdminMixin, BaseUserAdmin):
    list_display = ["username", "get_full_name", "email", "role", "department", "team", "is_active"]
    list_filter = ["role", "department", "team", "is_active", "is_staff"]
    search_fields = ["username", "first_name", "last_name", "email"]
    fieldsets = (
        *BaseUserAdmin.fieldsets,
        (_("Bank role"), {"fields": ["role", "department", "team", "language", "time_zone"]}),
    )
    add_fieldsets = (
        *BaseUserAdmin.add_fieldsets,
        (_("Bank role"), {"fields": ["role", "department", "team"]}),
    )
