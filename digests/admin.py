"""Digest history (read-only: rows are written by the claim), preferences and health snapshots."""

from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from cem.admin import DateRangeAdminMixin, ServiceRulesAdminMixin

from .models import ClientHealthSnapshot, DigestPreference, DigestRun
from .services import digest_preference_set, digest_preference_validate


@admin.register(DigestRun)
class DigestRunAdmin(DateRangeAdminMixin, admin.ModelAdmin):
    list_display = ["recipient", "week_label", "status", "language", "attempts", "sent_at", "subject"]
    list_filter = ["status", "iso_year", "iso_week", "language"]
    search_fields = ["recipient__username", "recipient__email", "recipient__last_name", "subject"]
    list_select_related = ["recipient"]
    date_hierarchy = "created_at"
    fields = [
        "recipient",
        "iso_year",
        "iso_week",
        "status",
        "language",
        "subject",
        "created_at",
        "claimed_at",
        "sent_at",
        "attempts",
        "error",
    ]
    readonly_fields = fields

    @admin.display(description=_("week"), ordering="iso_week")
    def week_label(self, run):
        return run.week_label

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class DigestPreferenceAdminForm(forms.ModelForm):
    class Meta:
        model = DigestPreference
        fields = ["user", "enabled", "language"]

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("user"):
            digest_preference_validate(
                user=cleaned["user"],
                enabled=cleaned.get("enabled", False),
                language=cleaned.get("language", ""),
            )
        return cleaned


@admin.register(DigestPreference)
class DigestPreferenceAdmin(DateRangeAdminMixin, ServiceRulesAdminMixin, admin.ModelAdmin):
    form = DigestPreferenceAdminForm
    list_display = ["user", "enabled", "language", "updated_at"]
    list_filter = ["enabled", "language"]
    search_fields = ["user__username", "user__email", "user__last_name"]
    autocomplete_fields = ["user"]
    list_select_related = ["user"]

    def save_model(self, request, obj, form, change):
        """Through the service, so the admin obeys the same rules as the settings page."""
        digest_preference_set(user=obj.user, enabled=obj.enabled, language=obj.language)


@admin.register(ClientHealthSnapshot)
class ClientHealthSnapshotAdmin(DateRangeAdminMixin, admin.ModelAdmin):
    list_display = ["client", "iso_year", "iso_week", "health", "project_count", "taken_at"]
    list_filter = ["iso_year", "iso_week"]
    search_fields = ["client__name"]
    list_select_related = ["client"]
    readonly_fields = ["client", "iso_year", "iso_week", "health", "project_count", "taken_at"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
