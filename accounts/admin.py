from functools import cache
from zoneinfo import available_timezones

from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.text import capfirst
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


@cache
def time_zone_choices() -> list[tuple[str, str]]:
    """Every zone the server knows, by name; a blank first so that a stored zone no longer known
    shows empty and must be chosen anew, rather than silently becoming the first in the list."""
    return [("", "---------"), *((name, name) for name in sorted(available_timezones()))]


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

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.name == "time_zone":
            return forms.ChoiceField(
                label=capfirst(db_field.verbose_name),
                choices=time_zone_choices,
                initial=db_field.default,
                help_text=_("Dates, deadlines and “this week” are shown in this zone."),
            )
        return super().formfield_for_dbfield(db_field, request, **kwargs)
