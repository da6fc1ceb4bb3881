from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from cem.admin import DateRangeAdminMixin, ServiceRulesAdminMixin
from finance_projects.models import FailureCategory

from . import services
from .forms import FailureCategoriesField
from .models import Question, Survey, SurveyInvitation, SurveyResponse, SurveySkip, Trigger


class QuestionInline(DateRangeAdminMixin, admin.TabularInline):
    model = Question
    extra = 0
    fields = ["position", "type", "text_zh", "text_en", "choices", "required"]
    ordering = ["position", "id"]


@admin.register(Survey)
class SurveyAdmin(DateRangeAdminMixin, ServiceRulesAdminMixin, admin.ModelAdmin):
    list_display = ["name_zh", "name_en", "kind", "is_active"]
    list_filter = ["kind", "is_active"]
    inlines = [QuestionInline]

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        # The questions were saved after the survey: move its version again so that no web
        # process keeps the questions it may have read in between.
        Survey.objects.filter(pk=form.instance.pk).update(updated_at=timezone.now())


@admin.register(SurveyInvitation)
class SurveyInvitationAdmin(DateRangeAdminMixin, ServiceRulesAdminMixin, admin.ModelAdmin):
    """Adding an invitation here is a manual send: the rules apply and the link is shown once."""

    list_display = [
        "contact",
        "project",
        "survey",
        "trigger",
        "created_at",
        "sent_at",
        "reminders_sent",
        "responded_at",
    ]
    list_filter = ["trigger", "survey", "stage", ("responded_at", admin.EmptyFieldListFilter)]
    search_fields = ["contact__name", "contact__email", "project__code", "project__name"]
    list_select_related = ["contact", "project", "survey"]
    autocomplete_fields = ["project", "contact"]
    date_hierarchy = "created_at"
    actions = ["send_again", "revoke"]

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["project", "contact", "survey", "reason"]
        return [field.name for field in self.model._meta.fields if field.name not in ("id", "dedupe_key")]

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else self.get_fields(request, obj)

    def save_model(self, request, obj, form, change):
        if change:
            return
        # A refusal (another client's contact, an inactive survey) is shown on its field.
        result = services.survey_send(
            project=obj.project,
            contact=obj.contact,
            survey=obj.survey,
            trigger=Trigger.MANUAL,
            reason=obj.reason,
            created_by=request.user,
            issue_link=True,
        )
        if result.skip is not None:
            reason = services.skip_message(result.skip)
            messages.warning(request, _("Not sent: %(reason)s") % {"reason": reason})
            return
        obj.pk = result.invitation.pk
        messages.success(
            request, _("Survey link (shown only now, it is emailed too): %(url)s") % {"url": result.url}
        )

    def response_add(self, request, obj, post_url_continue=None):
        if obj.pk is None:
            return self.response_post_save_add(request, obj)
        return super().response_add(request, obj, post_url_continue)

    @admin.action(description=gettext_lazy("Send the same survey again"))
    def send_again(self, request, queryset):
        """Each invitation on its own: one the rules refuse (its survey was deactivated, say) is
        counted with its reason and does not stop, or undo, the others."""
        sent = skipped = 0
        refused: dict[str, None] = {}  # the reasons, once each, in the order met
        refused_count = 0
        for invitation in queryset.select_related("project", "contact", "survey"):
            try:
                result = services.survey_send(
                    project=invitation.project,
                    contact=invitation.contact,
                    survey=invitation.survey,
                    trigger=Trigger.MANUAL,
                    reason=invitation.reason,
                    reason_params=invitation.reason_params,
                    created_by=request.user,
                )
            except ValidationError as error:
                refused_count += 1
                refused.update(dict.fromkeys(error.messages))
                continue
            sent += result.invitation is not None
            skipped += result.skip is not None
        messages.info(request, _("%(sent)d sent, %(skipped)d skipped.") % {"sent": sent, "skipped": skipped})
        if refused_count:
            messages.warning(
                request,
                ngettext(
                    "%(count)d not sent: %(reasons)s",
                    "%(count)d not sent: %(reasons)s",
                    refused_count,
                )
                % {"count": refused_count, "reasons": " ".join(refused)},
            )

    @admin.action(description=gettext_lazy("Revoke the links"))
    def revoke(self, request, queryset):
        revoked = answered = 0
        for invitation in queryset:
            try:
                services.invitation_revoke(invitation=invitation)
            except ValidationError:
                answered += 1
            else:
                revoked += 1
        messages.info(
            request,
            _("%(revoked)d revoked, %(answered)d already answered (kept).")
            % {"revoked": revoked, "answered": answered},
        )


class CategoryFilter(admin.SimpleListFilter):
    title = gettext_lazy("failure category")
    parameter_name = "category"

    def lookups(self, request, model_admin):
        return FailureCategory.choices

    def queryset(self, request, queryset):
        if self.value() in FailureCategory.values:
            return queryset.filter(categories__icontains=f'"{self.value()}"')
        return queryset


class SurveyResponseAdminForm(forms.ModelForm):
    # Ticked boxes, not raw JSON: only the five known categories can be chosen.
    categories = FailureCategoriesField(label=gettext_lazy("failure categories"))

    class Meta:
        model = SurveyResponse
        fields = ["categories"]


@admin.register(SurveyResponse)
class SurveyResponseAdmin(DateRangeAdminMixin, ServiceRulesAdminMixin, admin.ModelAdmin):
    form = SurveyResponseAdminForm
    list_display = [
        "invitation",
        "submitted_at",
        "nps",
        "csat",
        "ces",
        "is_detractor",
        "categories",
        "followed_up_at",
    ]
    list_filter = ["is_detractor", CategoryFilter, ("submitted_at", admin.EmptyFieldListFilter)]
    search_fields = ["comment", "invitation__contact__name", "invitation__project__code"]
    list_select_related = ["invitation__contact", "invitation__survey"]
    readonly_fields = [
        "invitation",
        "answers",
        "started_at",
        "submitted_at",
        "language",
        "nps",
        "csat",
        "ces",
        "comment",
        "is_detractor",
        "categories_edited_by",
        "categories_edited_at",
        "followed_up_at",
        "followed_up_by",
        "follow_up_outcome",
        "follow_up_history",
    ]
    actions = ["reanalyse"]

    @admin.display(description=gettext_lazy("every follow-up"))
    def follow_up_history(self, obj):
        """Every follow-up recorded on the response, newest contact first (shown, never edited
        here: they are recorded from the project page or the API)."""
        rows = [
            (date_format(timezone.localtime(f.contacted_at), "Y-m-d H:i"), f.by or "—", f.outcome)
            for f in (obj.follow_ups.select_related("by") if obj.pk else [])
        ]
        if not rows:
            return "—"
        return format_html("<ul>{}</ul>", format_html_join("", "<li>{} · {} · {}</li>", rows))

    def has_add_permission(self, request):
        return False

    def save_model(self, request, obj, form, change):
        if "categories" in form.changed_data:
            services.response_set_categories(response=obj, categories=obj.categories or [], by=request.user)

    @admin.action(description=gettext_lazy("Analyse the comments again (hand-edited ones are kept)"))
    def reanalyse(self, request, queryset):
        changed = services.responses_reanalyse(responses=queryset)
        messages.info(request, _("%(count)d responses changed.") % {"count": changed})


@admin.register(SurveySkip)
class SurveySkipAdmin(DateRangeAdminMixin, admin.ModelAdmin):
    list_display = ["contact", "project", "survey", "trigger", "reason", "at", "send_at"]
    list_filter = ["reason", "trigger"]
    list_select_related = ["contact", "project", "survey"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
