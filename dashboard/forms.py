"""Browser forms. They only parse input; the rules live in the services, whose ValidationErrors
are put back on the form's fields by `add_service_errors`."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from cem.form_fields import ContactChoiceField, DateField, DateTimeField
from feedback.forms import FailureCategoriesField
from feedback.models import Survey, SurveyKind
from finance_projects.models import (
    NOTE_MAX_CHARS,
    RECORDED_CHANNELS,
    CommitmentKind,
    Contact,
    Stage,
    TouchpointChannel,
)
from finance_projects.tokens import new_request_key

DATETIME_INPUT = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
TEXTAREA = forms.Textarea(attrs={"rows": 3})


class Select(forms.Select):
    """Django's select, its options rendered in one template loop rather than one template each
    (a menu of the team's people would otherwise cost a template render per person)."""

    template_name = "dashboard/widgets/select.html"


def add_service_errors(
    form: forms.Form, error: ValidationError, aliases: dict[str, str] | None = None
) -> None:
    """Show a service's ValidationError next to the field it names (or above the form);
    `aliases` maps a service's field name to the form's when they differ."""
    aliases = aliases or {}
    if hasattr(error, "error_dict"):
        for field, messages in error.message_dict.items():
            field = aliases.get(field, field)
            form.add_error(field if field in form.fields else None, messages)
    else:
        form.add_error(None, error.messages)


class PageForm(forms.Form):
    """A form of a page that shows several: its fields' ids start with `id_prefix`, so no two
    forms on the page share an id and each label points at its own field."""

    id_prefix = ""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", f"id_{self.id_prefix}_%s")
        super().__init__(*args, **kwargs)


class TouchpointForm(PageForm):
    id_prefix = "touchpoint"
    channel = forms.ChoiceField(
        label=_("Channel"),
        widget=Select,
        choices=[c for c in TouchpointChannel.choices if c[0] not in RECORDED_CHANNELS],
    )
    occurred_at = DateTimeField(label=_("When"), widget=DATETIME_INPUT)
    contact = forms.ModelChoiceField(
        label=_("Contact"), queryset=Contact.objects.none(), required=False, widget=Select
    )
    summary = forms.CharField(label=_("What happened"), max_length=NOTE_MAX_CHARS, widget=TEXTAREA)
    is_client_update = forms.BooleanField(label=_("Keeps the client informed"), required=False, initial=True)
    shareable = forms.BooleanField(label=_("Show on the client status page"), required=False)

    def __init__(self, *args, project=None, **kwargs):
        super().__init__(*args, **kwargs)
        if project is not None:
            self.fields["contact"].queryset = Contact.objects.filter(client_id=project.client_id)


class CommitmentForm(PageForm):
    id_prefix = "commitment"
    title = forms.CharField(label=_("What was promised"), max_length=240)
    kind = forms.ChoiceField(label=_("Kind"), choices=CommitmentKind.choices, widget=Select)
    due_at = DateTimeField(label=_("Due"), widget=DATETIME_INPUT)
    owner = forms.ModelChoiceField(label=_("Owner"), queryset=User.objects.none(), widget=Select)

    def __init__(self, *args, owners=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = owners if owners is not None else User.objects.none()


class RenegotiateForm(PageForm):
    """One per open commitment on the project page, each with the commitment's ids."""

    new_due_at = DateTimeField(label=_("New due date"), widget=DATETIME_INPUT)
    reason = forms.CharField(label=_("Reason"), max_length=NOTE_MAX_CHARS, widget=TEXTAREA)

    def __init__(self, *args, commitment_pk: int, **kwargs):
        self.id_prefix = f"renegotiate_{commitment_pk}"
        super().__init__(*args, **kwargs)


class StageMoveForm(PageForm):
    id_prefix = "stage"
    to_stage = forms.ChoiceField(label=_("Move to"), choices=Stage.choices, widget=Select)
    override = forms.BooleanField(label=_("Manager override"), required=False)
    note = forms.CharField(label=_("Note"), max_length=NOTE_MAX_CHARS, required=False, widget=TEXTAREA)


class StatusLinkForm(PageForm):
    id_prefix = "status_link"
    contact = forms.ModelChoiceField(label=_("Contact"), queryset=Contact.objects.none(), widget=Select)
    days = forms.IntegerField(label=_("Valid for (days)"), initial=30)
    # One per form shown: sending it again (a reload, a double click) shows the same link.
    request_key = forms.CharField(widget=forms.HiddenInput, required=False, max_length=64)

    def __init__(self, *args, project=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.initial.setdefault("request_key", new_request_key())
        if project is not None:
            self.fields["contact"].queryset = Contact.objects.filter(client_id=project.client_id)

    def renew_request_key(self) -> None:
        """Shown again after a refusal, the form asks for a new link when sent."""
        self.data = self.data.copy()
        self.data["request_key"] = new_request_key()


# The surveys a person may send by hand; the recovery survey goes out when a complaint is resolved.
SENDABLE_SURVEY_KINDS = (SurveyKind.RELATIONSHIP, SurveyKind.MILESTONE, SurveyKind.CUSTOM)


class SurveySendForm(PageForm):
    """A survey sent by the RM to a contact of the project's client (the rules: `survey_send`)."""

    id_prefix = "survey"

    contact = ContactChoiceField(label=_("Contact"), queryset=Contact.objects.none(), widget=Select)
    survey = forms.ModelChoiceField(label=_("Survey"), queryset=Survey.objects.none(), widget=Select)
    # Sent to the client word for word (`SurveyInvitation.reason`): not a place for internal notes.
    reason = forms.CharField(
        label=_("Note to the client (optional)"),
        help_text=_("Shown to the client as you type it, in the invitation e-mail and on the survey page."),
        max_length=300,
        required=False,
        widget=TEXTAREA,
    )

    def __init__(self, *args, project=None, **kwargs):
        super().__init__(*args, **kwargs)
        if project is not None:
            self.fields["contact"].queryset = (
                Contact.objects.filter(client_id=project.client_id)
                .select_related("client")
                .order_by("name", "id")
            )
        survey = self.fields["survey"]
        survey.queryset = Survey.objects.filter(is_active=True, kind__in=SENDABLE_SURVEY_KINDS).order_by(
            "kind", "id"
        )
        # The menu offers only the surveys a client can answer. One without questions that is
        # posted anyway (they were removed while the form was open) is refused by `survey_send`,
        # which says why on this field.
        offered = forms.ModelChoiceField(queryset=survey.queryset.filter(questions__isnull=False).distinct())
        survey.widget.choices = offered.choices


class ResponseCategoriesForm(forms.Form):
    """The failure categories of a survey response, as the RM corrects them (none is allowed)."""

    categories = FailureCategoriesField(label=_("Failure categories"))


class FollowUpForm(forms.Form):
    """The call back to the client after a survey response."""

    contacted_at = DateTimeField(label=_("Client contacted at"), widget=DATETIME_INPUT)
    outcome = forms.CharField(label=_("Outcome"), max_length=4000, widget=TEXTAREA)


def error_text(form: forms.Form) -> str:
    """The form's errors in one sentence, each after the label of the field it is about."""
    parts = []
    for name, errors in form.errors.items():
        text = " ".join(errors)
        field = form.fields.get(name)
        parts.append(f"{field.label}: {text}" if field is not None else text)
    return " ".join(parts)


class SnoozeForm(forms.Form):
    hours = forms.TypedChoiceField(
        label=_("Snooze for"),
        coerce=int,
        choices=[(4, _("4 hours")), (24, _("1 day")), (72, _("3 days")), (168, _("1 week"))],
    )


class AssignForm(forms.Form):
    assignee = forms.ModelChoiceField(label=_("Assign to"), queryset=User.objects.none())

    def __init__(self, *args, users=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = users if users is not None else User.objects.none()


class PeriodForm(forms.Form):
    days = forms.TypedChoiceField(
        label=_("Period"),
        coerce=int,
        required=False,
        choices=[(7, _("Last 7 days")), (30, _("Last 30 days")), (90, _("Last 90 days"))],
        initial=30,
    )


class SubmittedPeriodForm(forms.Form):
    """The days a list of survey answers is narrowed to, both optional and both included; the
    page reads them in the user's time zone. A day that is not one (or outside the years the
    product takes) is left out of `cleaned_data`: the list pages ignore it."""

    start = DateField(label=_("Submitted from"), required=False, widget=DATE_INPUT)
    end = DateField(label=_("Submitted until"), required=False, widget=DATE_INPUT)


class ConcernForm(forms.Form):
    description = forms.CharField(
        label=_("What worries you?"), max_length=4000, widget=forms.Textarea(attrs={"rows": 4})
    )
