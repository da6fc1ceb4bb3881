"""Back office for operations staff: find any client, project or promise, see its audit trail,
and act on it through the same services as the API (so the same rules hold here)."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from simple_history.admin import SimpleHistoryAdmin

from cem.admin import DateRangeAdminMixin, ServiceRulesAdminMixin

from . import alerts, selectors, services
from .models import (
    Alert,
    Client,
    Commitment,
    CommitmentStatus,
    Contact,
    FinancingProject,
    ImportJob,
    ProjectStatusLink,
    Stage,
    StageDefinition,
    StageTransition,
    Touchpoint,
)


def _errors(error: ValidationError) -> str:
    return "; ".join(error.messages)


class ReadOnlyHistoryAdmin(DateRangeAdminMixin, ServiceRulesAdminMixin, SimpleHistoryAdmin):
    """History to read, not to revert: a revert writes an old version back with a plain save,
    past the services' rules and the scans' stored severities (an alert reopened for good)."""

    def revert_disabled(self, request, obj=None):
        return True

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        if request.method == "POST":
            raise PermissionDenied
        return super().history_form_view(request, object_id, version_id, extra_context)


class ReadOnlyInline(DateRangeAdminMixin, admin.TabularInline):
    """A view of related rows; they are changed on their own pages, through the services."""

    extra = 0
    max_num = 0
    can_delete = False
    show_change_link = True

    def get_readonly_fields(self, request, obj=None):
        return self.fields


class ContactInline(DateRangeAdminMixin, admin.TabularInline):
    model = Contact
    fields = ["name", "title", "email", "phone", "language", "opted_out"]
    extra = 0
    show_change_link = True
    can_delete = False  # from the contact's own page, where the rule below applies


@admin.register(Client)
class ClientAdmin(DateRangeAdminMixin, ServiceRulesAdminMixin, admin.ModelAdmin):
    list_display = ["name", "industry", "region", "relationship_manager", "team", "created_at"]
    list_filter = ["team", "industry", "region"]
    list_select_related = ["relationship_manager", "team"]
    search_fields = ["name", "industry", "region", "relationship_manager__username"]
    autocomplete_fields = ["relationship_manager"]
    readonly_fields = ["team", "created_at"]
    date_hierarchy = "created_at"
    inlines = [ContactInline]

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)

        class ClientForm(form):
            def clean(self):
                cleaned = super().clean()
                manager = cleaned.get("relationship_manager")
                team_id = obj.team_id if obj else getattr(manager, "team_id", None)
                if manager is not None and (manager.team_id is None or manager.team_id != team_id):
                    self.add_error(
                        "relationship_manager",
                        _("The relationship manager must belong to the client's team."),
                    )
                return cleaned

        return ClientForm

    def save_model(self, request, obj, form, change):
        data = {name: form.cleaned_data[name] for name in form.changed_data}
        if change:
            services.client_update(client=obj, **data)
            return
        created = services.client_create(
            name=obj.name,
            relationship_manager=obj.relationship_manager,
            industry=obj.industry,
            region=obj.region,
        )
        obj.pk, obj.team_id, obj.created_at = created.pk, created.team_id, created.created_at
        obj._state.adding = False

    def save_formset(self, request, form, formset, change):
        if formset.model is not Contact:
            return super().save_formset(request, form, formset, change)
        # Each contact row through the services, under the rules of the contact's own page.
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        for row in formset.forms:
            if not row.has_changed():
                continue
            if row.instance.pk is None:
                fields = {name: row.cleaned_data[name] for name in ContactInline.fields}
                formset.new_objects.append(services.contact_create(client=form.instance, **fields))
            else:
                changed = {name: row.cleaned_data[name] for name in row.changed_data}
                contact = services.contact_update(contact=row.instance, by_administrator=True, **changed)
                formset.changed_objects.append((contact, list(changed)))


CONTACT_CREATE_FIELDS = ["client", "name", "email", "title", "phone", "language", "opted_out"]


@admin.register(Contact)
class ContactAdmin(DateRangeAdminMixin, ServiceRulesAdminMixin, admin.ModelAdmin):
    list_display = ["name", "client", "title", "email", "phone", "language", "opted_out"]
    list_filter = ["language", "opted_out", "client__team"]
    list_select_related = ["client"]
    search_fields = ["name", "email", "phone", "client__name"]
    autocomplete_fields = ["client"]

    def has_delete_permission(self, request, obj=None):
        # One with a history is part of the record (deleting would take their survey answers
        # along): the same rule as `services.contact_delete`, so the page offers no delete.
        if obj is not None and selectors.contact_has_history(obj):
            return False
        return super().has_delete_permission(request, obj)

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)  # it would skip the rule above
        return actions

    def save_model(self, request, obj, form, change):
        if not change:
            # Through the service, like the API: one address per client, whatever its case.
            created = services.contact_create(**{name: getattr(obj, name) for name in CONTACT_CREATE_FIELDS})
            obj.pk, obj.created_at = created.pk, created.created_at
            obj._state.adding = False
            return
        # Through the service, under its row lock: a contact with a history keeps their client.
        # Here an administrator may also opt a contact back in, at the client's request.
        data = {name: form.cleaned_data[name] for name in form.changed_data if name in form.cleaned_data}
        services.contact_update(contact=obj, by_administrator=True, **data)

    def delete_model(self, request, obj):
        # Through the service: it checks again under the contact's row lock, in case a survey or
        # touchpoint arrived since the page was shown.
        services.contact_delete(contact=obj)

    def delete_view(self, request, object_id, extra_context=None):
        try:
            return super().delete_view(request, object_id, extra_context)
        except ValidationError as error:  # rolled back with the admin's transaction
            messages.error(request, " ".join(error.messages))
            return redirect(reverse("admin:finance_projects_contact_change", args=[object_id]))


@admin.register(StageDefinition)
class StageDefinitionAdmin(DateRangeAdminMixin, admin.ModelAdmin):
    list_display = ["stage", "expected_days", "purpose_zh", "purpose_en"]
    list_editable = ["expected_days"]

    def get_queryset(self, request):
        return super().get_queryset(request).order_by("id")

    def has_delete_permission(self, request, obj=None):
        return False  # every stage needs its definition


class TransitionInline(ReadOnlyInline):
    model = StageTransition
    fields = ["from_stage", "stage", "entered_at", "left_at", "moved_by", "override", "note"]


class TouchpointInline(ReadOnlyInline):
    model = Touchpoint
    fields = ["occurred_at", "channel", "contact", "summary", "is_client_update", "logged_by"]


class CommitmentInline(ReadOnlyInline):
    model = Commitment
    fields = ["title", "kind", "owner", "due_at", "status", "fulfilled_at"]


class ProjectAdminForm(forms.ModelForm):
    class Meta:
        model = FinancingProject
        fields = [
            "client",
            "name",
            "code",
            "amount",
            "currency",
            "status",
            "relationship_manager",
            "update_cadence_days",
        ]

    def clean(self):
        cleaned = super().clean()
        client, manager = cleaned.get("client"), cleaned.get("relationship_manager")
        if client and manager and manager.team_id != client.team_id:
            self.add_error(
                "relationship_manager", _("The relationship manager must belong to the client's team.")
            )
        return cleaned


class UpdateOverdueFilter(admin.SimpleListFilter):
    title = _("update overdue")
    parameter_name = "update_overdue"

    def lookups(self, request, model_admin):
        return [("yes", _("Yes")), ("no", _("No"))]

    def queryset(self, request, queryset):
        overdue = Q(status="active", next_update_due_at__lt=timezone.now())
        if self.value() == "yes":
            return queryset.filter(overdue)
        if self.value() == "no":
            return queryset.exclude(overdue)
        return queryset


@admin.register(FinancingProject)
class FinancingProjectAdmin(ReadOnlyHistoryAdmin):
    form = ProjectAdminForm
    list_display = [
        "code",
        "name",
        "client",
        "stage",
        "status",
        "money",
        "relationship_manager",
        "team",
        "last_client_update_at",
        "next_update_due_at",
        "health",
    ]
    list_filter = ["stage", "status", "team", "currency", UpdateOverdueFilter]
    list_select_related = ["client", "relationship_manager", "team"]
    search_fields = ["code", "name", "client__name"]
    autocomplete_fields = ["client", "relationship_manager"]
    date_hierarchy = "created_at"
    readonly_fields = [
        "stage",
        "team",
        "stage_entered_at",
        "last_client_update_at",
        "next_update_due_at",
        "health",
        "health_factors",
        "health_computed_at",
        "created_at",
        "updated_at",
    ]
    fieldsets = [
        (
            None,
            {"fields": ["client", "name", "code", ("amount", "currency"), "status", "relationship_manager"]},
        ),
        (
            _("Client updates"),
            {"fields": ["update_cadence_days", "last_client_update_at", "next_update_due_at"]},
        ),
        (_("Stage"), {"fields": ["stage", "stage_entered_at"]}),
        (
            _("Health"),
            {"fields": ["health", "health_factors", "health_computed_at"], "classes": ["collapse"]},
        ),
        (None, {"fields": ["team", "created_at", "updated_at"]}),
    ]
    inlines = [TransitionInline, TouchpointInline, CommitmentInline]
    actions = ["move_to_next_stage"]

    @admin.display(description=_("amount"), ordering="amount")
    def money(self, project):
        return project.money

    def save_model(self, request, obj, form, change):
        data = {name: form.cleaned_data[name] for name in form.changed_data if name in form.cleaned_data}
        if change:
            # The form already holds the new values on `obj`; the service re-applies them with its rules.
            services.project_update(project=obj, **data)
            return
        created = services.project_create(
            created_by=request.user,
            **{name: form.cleaned_data[name] for name in ProjectAdminForm.Meta.fields},
        )
        obj.pk = created.pk
        obj._state.adding = False

    @admin.action(description=_("Move the selected projects to their next stage"))
    def move_to_next_stage(self, request, queryset):
        moved = 0
        for project in queryset:
            next_stage = Stage.next_after(project.stage)
            if next_stage is None:
                continue
            try:
                services.project_move_stage(project=project, to_stage=next_stage, moved_by=request.user)
            except ValidationError as error:
                self.message_user(request, f"{project.code}: {_errors(error)}", messages.ERROR)
            else:
                moved += 1
        self.message_user(
            request, ngettext("%d project moved.", "%d projects moved.", moved) % moved, messages.SUCCESS
        )


@admin.register(StageTransition)
class StageTransitionAdmin(DateRangeAdminMixin, admin.ModelAdmin):
    list_display = ["project", "from_stage", "stage", "entered_at", "left_at", "moved_by", "override"]
    list_filter = ["stage", "override"]
    list_select_related = ["project", "moved_by"]
    search_fields = ["project__code", "project__name", "note"]
    date_hierarchy = "entered_at"

    def has_add_permission(self, request):
        return False  # transitions are made by moving the project

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False  # the stage history; its overrun alerts are resolved by moving the project


@admin.register(Touchpoint)
class TouchpointAdmin(DateRangeAdminMixin, ServiceRulesAdminMixin, admin.ModelAdmin):
    list_display = [
        "occurred_at",
        "project",
        "channel",
        "contact",
        "is_client_update",
        "shareable",
        "logged_by",
    ]
    list_filter = ["channel", "is_client_update", "shareable", "needs_attention"]
    list_select_related = ["project", "contact", "logged_by"]
    search_fields = ["summary", "project__code", "project__name", "contact__name"]
    autocomplete_fields = ["project", "contact"]
    date_hierarchy = "occurred_at"
    readonly_fields = ["logged_by", "created_at"]

    def has_delete_permission(self, request, obj=None):
        return False  # a log, like the API's: a deleted client update would still count as sent

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return self.readonly_fields
        # What moved the client-update deadline stays as it was logged.
        return [*self.readonly_fields, "project", "occurred_at", "is_client_update"]

    def save_model(self, request, obj, form, change):
        if change:
            # A contact of another client is refused on its field (ServiceRulesAdminMixin).
            services.touchpoint_edit(
                touchpoint=obj, **{name: form.cleaned_data[name] for name in form.changed_data}
            )
            return
        logged = services.touchpoint_log(
            project=obj.project,
            contact=obj.contact,
            channel=obj.channel,
            occurred_at=obj.occurred_at,
            summary=obj.summary,
            is_client_update=obj.is_client_update,
            shareable=obj.shareable,
            needs_attention=obj.needs_attention,
            logged_by=request.user,
        )
        obj.pk = logged.pk
        obj._state.adding = False


class MissedFilter(admin.SimpleListFilter):
    title = _("missed")
    parameter_name = "missed"

    def lookups(self, request, model_admin):
        return [("yes", _("Yes")), ("no", _("No"))]

    def queryset(self, request, queryset):
        missed = Q(status=CommitmentStatus.OPEN, due_at__lt=timezone.now())
        if self.value() == "yes":
            return queryset.filter(missed)
        if self.value() == "no":
            return queryset.exclude(missed)
        return queryset


@admin.register(Commitment)
class CommitmentAdmin(ReadOnlyHistoryAdmin):
    list_display = [
        "title",
        "project",
        "kind",
        "owner",
        "department",
        "due_at",
        "status",
        "missed",
        "fulfilled_at",
    ]
    list_filter = ["status", MissedFilter, "kind", "department"]
    list_select_related = ["project", "owner"]
    search_fields = ["title", "description", "project__code", "project__name", "owner__username"]
    autocomplete_fields = ["project", "owner"]
    date_hierarchy = "due_at"
    readonly_fields = [
        "status",
        "fulfilled_at",
        "closed_at",
        "close_reason",
        "renegotiated_from",
        "created_by",
        "created_at",
    ]
    actions = ["fulfil"]

    def has_delete_permission(self, request, obj=None):
        return False  # a promise stays on the record: cancel it, with a reason, instead

    @admin.display(description=_("missed"), boolean=True)
    def missed(self, commitment):
        return commitment.is_missed()

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return self.readonly_fields
        if obj.status != CommitmentStatus.OPEN:
            return [field.name for field in Commitment._meta.fields]
        # The project and the date of a promise change only by renegotiation.
        return [*self.readonly_fields, "project", "due_at"]

    def save_model(self, request, obj, form, change):
        if change:
            services.commitment_update(
                commitment=obj,
                by=request.user,
                **{name: form.cleaned_data[name] for name in form.changed_data},
            )
            return
        created = services.commitment_create(
            project=obj.project,
            title=obj.title,
            description=obj.description,
            kind=obj.kind,
            owner=obj.owner,
            department=obj.department,
            due_at=obj.due_at,
            created_by=request.user,
        )
        obj.pk = created.pk
        obj._state.adding = False

    @admin.action(description=_("Mark the selected commitments fulfilled"))
    def fulfil(self, request, queryset):
        done = 0
        for commitment in queryset.filter(status=CommitmentStatus.OPEN):
            try:
                services.commitment_fulfil(commitment=commitment, by=request.user)
            except ValidationError as error:  # closed by someone else since the list was read
                self.message_user(request, f"{commitment.title}: {_errors(error)}", messages.ERROR)
            else:
                done += 1
        self.message_user(
            request,
            ngettext("%d commitment fulfilled.", "%d commitments fulfilled.", done) % done,
            messages.SUCCESS,
        )


class OpenAlertFilter(admin.SimpleListFilter):
    title = _("open")
    parameter_name = "open"

    def lookups(self, request, model_admin):
        return [("yes", _("Yes")), ("no", _("No"))]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(resolved_at__isnull=True)
        if self.value() == "no":
            return queryset.filter(resolved_at__isnull=False)
        return queryset


class AlertAdminForm(forms.ModelForm):
    """Only the assignee can be changed here, under the same rule as the dashboard and the API."""

    class Meta:
        model = Alert
        fields = ["assignee"]

    def clean_assignee(self):
        assignee = self.cleaned_data["assignee"]
        if self.instance.resolved_at is not None:
            raise ValidationError(_("This alert is already resolved."))
        try:
            alerts.check_assignee(assignee, project_id=self.instance.project_id)
        except ValidationError as error:
            raise ValidationError(error.message_dict["assignee"]) from error
        return assignee


@admin.register(Alert)
class AlertAdmin(ReadOnlyHistoryAdmin):
    form = AlertAdminForm
    list_display = ["kind", "severity", "project", "assignee", "opened_at", "acknowledged_at", "resolved_at"]
    list_filter = [
        OpenAlertFilter,
        "kind",
        "severity",
        ("assignee", admin.RelatedOnlyFieldListFilter),
        ("project__team", admin.RelatedOnlyFieldListFilter),
    ]
    list_select_related = ["project", "assignee"]
    search_fields = ["message", "project__code", "project__name"]
    autocomplete_fields = ["assignee"]
    date_hierarchy = "opened_at"
    fields = [
        "kind",
        "severity",
        "project",
        "subject_type",
        "subject_id",
        "message",
        "assignee",
        "opened_at",
        "last_seen",
        "acknowledged_at",
        "acknowledged_by",
        "snoozed_until",
        "resolved_at",
        "critical_since",
        "notified_at",
        "escalated_at",
    ]
    readonly_fields = [name for name in fields if name != "assignee"]

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and obj.resolved_at is not None:
            return self.fields  # the record of a closed alert
        return self.readonly_fields

    def get_queryset(self, request):
        return selectors.with_last_seen(super().get_queryset(request))

    @admin.display(description=_("last seen at"), ordering="seen_at")
    def last_seen(self, alert):
        return alert.seen_at

    def save_model(self, request, obj, form, change):
        if "assignee" in form.changed_data:
            alerts.alert_assign(alert=obj, assignee=form.cleaned_data["assignee"], by=request.user)

    def has_add_permission(self, request):
        return False  # alerts are raised by the scans

    def has_delete_permission(self, request, obj=None):
        return False  # resolved by the scans, kept as the record (the scans trust their stored severities)


@admin.register(ProjectStatusLink)
class ProjectStatusLinkAdmin(DateRangeAdminMixin, admin.ModelAdmin):
    list_display = ["project", "contact", "created_at", "expires_at", "revoked_at", "last_viewed_at"]
    list_select_related = ["project", "contact"]
    search_fields = ["project__code", "project__name", "contact__name", "contact__email"]
    date_hierarchy = "created_at"
    readonly_fields = [
        "project",
        "contact",
        "created_by",
        "created_at",
        "expires_at",
        "revoked_at",
        "last_viewed_at",
    ]
    exclude = ["token_hash"]
    actions = ["revoke"]

    def has_add_permission(self, request):
        return False  # the link's token is shown once, where it is created

    @admin.action(description=_("Revoke the selected links"))
    def revoke(self, request, queryset):
        for link in queryset.filter(revoked_at__isnull=True):
            services.status_link_revoke(link=link)


@admin.register(ImportJob)
class ImportJobAdmin(DateRangeAdminMixin, admin.ModelAdmin):
    list_display = [
        "filename",
        "kind",
        "status",
        "total",
        "imported",
        "created_by",
        "created_at",
        "finished_at",
    ]
    list_filter = ["kind", "status"]
    list_select_related = ["created_by"]
    search_fields = ["filename", "created_by__username"]
    date_hierarchy = "created_at"
    exclude = ["source"]

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in ImportJob._meta.fields if field.name != "source"]

    def has_add_permission(self, request):
        return False  # imports are uploaded from the dashboard
