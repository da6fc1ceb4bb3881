from django import forms
from django.contrib import admin
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cem.admin import DateRangeAdminMixin

from . import emails, services, tasks
from .models import (
    CaseStudy,
    ClientEmail,
    Complaint,
    ComplaintEvent,
    ComplaintLink,
    FollowUpVisit,
    RecoveryAction,
    SlaPolicy,
)


@admin.register(SlaPolicy)
class SlaPolicyAdmin(DateRangeAdminMixin, admin.ModelAdmin):
    list_display = [
        "code",
        "name_zh",
        "name_en",
        "calendar",
        "resolve_days",
        "first_extension_to_days",
        "max_days",
    ]


class EventInline(DateRangeAdminMixin, admin.TabularInline):
    model = ComplaintEvent
    fields = ["at", "kind", "actor", "summary", "data"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class RecoveryActionForm(forms.ModelForm):
    """Whom an action may go to, as on the complaint page (`services.check_action_owner`):
    holding an action shows its complaint."""

    def clean(self):
        cleaned = super().clean()
        owner = cleaned.get("owner")
        complaint = cleaned.get("complaint") or getattr(self.instance, "complaint", None)
        if owner is not None and complaint is not None and {"owner", "complaint"} & set(self.changed_data):
            try:
                services.check_action_owner(owner, complaint.project)
            except forms.ValidationError as error:
                self.add_error("owner", error.message_dict["owner"])
        return cleaned


class ActionInline(DateRangeAdminMixin, admin.TabularInline):
    model = RecoveryAction
    form = RecoveryActionForm
    fields = ["kind", "description", "owner", "due_at", "done_at"]
    readonly_fields = ["done_at"]
    extra = 0


class FollowUpInline(DateRangeAdminMixin, admin.TabularInline):
    model = FollowUpVisit
    fields = ["offset_days", "due_at", "done_at", "cancelled_at", "outcome", "client_satisfied"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Complaint)
class ComplaintAdmin(DateRangeAdminMixin, admin.ModelAdmin):
    """Deadlines, status and the clock are changed only through the services (the pages and
    the API), so they are read-only here."""

    list_display = [
        "reference",
        "project",
        "category",
        "severity",
        "status",
        "owner",
        "received_at",
        "resolve_due_at",
    ]
    list_filter = ["status", "category", "severity", "channel", "sla_policy", "legal_risk"]
    search_fields = ["reference", "description", "project__code", "project__client__name"]
    date_hierarchy = "received_at"
    list_select_related = ["project", "owner"]

    def has_add_permission(self, request):
        return False  # recorded on the complaint pages and the API, which start its clock

    raw_id_fields = ["project", "contact", "owner", "merged_into"]
    readonly_fields = [
        "reference",
        "status",
        "sla_policy",
        "allowed_days",
        "ack_due_at",
        "resolve_due_at",
        "resolve_warn_at",
        "acknowledged_at",
        "investigating_at",
        "resolved_at",
        "closed_at",
        "paused_at",
        "paused_seconds",
        "extension_count",
        "escalated_at",
        "merged_into",
        "response_sent_at",
        "compensation_amount",
        "compensation_currency",
        "compensation_approved_by",
        "rm_handling_approved_by",
        "owner",
        "received_at",
        "project",
        "contact",
        "created_by",
    ]
    inlines = [ActionInline, FollowUpInline, EventInline]

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and not (obj and obj.is_read_only)

    def has_delete_permission(self, request, obj=None):
        return False


class RecordAdmin(DateRangeAdminMixin, admin.ModelAdmin):
    """Rows the services write once, to read here: nobody adds, changes or deletes them."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ComplaintEvent)
class ComplaintEventAdmin(RecordAdmin):
    list_display = ["complaint", "kind", "actor", "at"]
    list_filter = ["kind"]
    search_fields = ["complaint__reference", "summary"]


class SentListFilter(admin.SimpleListFilter):
    title = _("sent")
    parameter_name = "sent"

    def lookups(self, request, model_admin):
        return [("yes", _("Sent")), ("no", _("Not sent"))]

    def queryset(self, request, queryset):
        if self.value() in ("yes", "no"):
            return queryset.filter(sent_at__isnull=self.value() == "no")
        return queryset


@admin.register(ClientEmail)
class ClientEmailAdmin(RecordAdmin):
    """What each client was e-mailed about their complaint, as sent; one the mail server kept
    refusing can be tried again from here."""

    list_display = ["complaint", "to", "subject", "created_at", "sent_at", "attempts", "last_error"]
    list_filter = [SentListFilter, "kind"]
    search_fields = ["complaint__reference", "to", "subject"]
    actions = ["try_again"]

    def has_resend_permission(self, request) -> bool:
        """Only administrators send again what the system gave up on."""
        user = request.user
        return user.is_active and (user.is_superuser or user.is_admin_role)

    @admin.action(description=_("Try sending the selected unsent e-mails again"), permissions=["resend"])
    def try_again(self, request, queryset):
        count = emails.client_emails_try_again(list(queryset.values_list("pk", flat=True)))
        if count:
            # Sent by a worker: a slow mail server must not hold this page past its timeout.
            tasks.deliver_client_emails.delay()
        self.message_user(
            request, _("%(count)d unsent e-mails will be sent again shortly.") % {"count": count}
        )


@admin.register(RecoveryAction)
class RecoveryActionAdmin(DateRangeAdminMixin, admin.ModelAdmin):
    form = RecoveryActionForm
    list_display = ["complaint", "kind", "owner", "due_at", "done_at"]
    list_filter = ["kind"]
    raw_id_fields = ["complaint", "owner", "created_by"]


@admin.register(FollowUpVisit)
class FollowUpVisitAdmin(DateRangeAdminMixin, admin.ModelAdmin):
    list_display = ["complaint", "offset_days", "due_at", "done_at", "cancelled_at"]
    readonly_fields = ["complaint", "touchpoint", "done_by"]

    def has_add_permission(self, request):
        return False  # scheduled by resolving a complaint


@admin.register(ComplaintLink)
class ComplaintLinkAdmin(DateRangeAdminMixin, admin.ModelAdmin):
    list_display = ["complaint", "created_at", "expires_at", "revoked_at", "last_viewed_at"]
    readonly_fields = ["complaint", "token_hash", "created_at", "last_viewed_at"]
    actions = ["revoke"]

    @admin.action(description=_("Revoke the selected links"))
    def revoke(self, request, queryset):
        queryset.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())

    def has_add_permission(self, request):
        return False


CASE_TEXT_FIELDS = [
    f"{name}_{language}"
    for name in ("title", "summary", "lessons", "what_worked")
    for language in ("zh", "en")
]


class CaseStudyForm(forms.ModelForm):
    """An edited case text is held to the rule it was published under
    (`services.case_check_anonymous`): none may still name the client, a contact or the staff
    involved, or give their email address or phone number."""

    def clean(self):
        cleaned = super().clean()
        complaint = self.instance.complaint if self.instance.complaint_id else None
        edited = {
            field: cleaned[field]
            for field in CASE_TEXT_FIELDS
            if field in self.changed_data and isinstance(cleaned.get(field), str)
        }
        if complaint is not None and edited:
            try:
                services.case_check_anonymous(complaint, edited)
            except forms.ValidationError as error:
                self.add_error(None, error)
        return cleaned


@admin.register(CaseStudy)
class CaseStudyAdmin(DateRangeAdminMixin, admin.ModelAdmin):
    form = CaseStudyForm
    list_display = ["title_zh", "title_en", "category", "root_cause", "published_at"]
    list_filter = ["category", "root_cause"]
    search_fields = ["title_zh", "title_en", "summary_zh", "summary_en", "lessons_zh", "lessons_en"]
    readonly_fields = ["complaint", "published_by", "published_at"]

    def has_add_permission(self, request):
        return False  # published from a resolved complaint's page, which anonymises it
