"""Browser forms; the services hold the rules, the forms only parse input."""

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from accounts.models import User
from cem.form_fields import ContactChoiceField, DateField, DateTimeField
from finance_projects.models import NOTE_MAX_CHARS, Currency, FailureCategory, RootCause
from finance_projects.selectors import contacts_for, portfolio_for, users_who_see

from .models import Channel, RecoveryKind, ResponseChannel, Severity, SlaPolicy, Status
from .selectors import recovery_action_owners

DATETIME = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


class ComplaintCreateForm(forms.Form):
    project = forms.ModelChoiceField(label=_("Project"), queryset=None)
    contact = ContactChoiceField(label=_("Contact"), queryset=None)
    channel = forms.ChoiceField(label=_("Channel"), choices=Channel.choices)
    received_at = DateTimeField(label=_("Received at"), required=False, widget=DATETIME)
    category = forms.ChoiceField(label=_("Category"), choices=FailureCategory.choices)
    severity = forms.ChoiceField(label=_("Severity"), choices=Severity.choices, initial=Severity.MEDIUM)
    description = forms.CharField(
        label=_("What the client says"), max_length=NOTE_MAX_CHARS, widget=forms.Textarea(attrs={"rows": 4})
    )
    remedy_requested = forms.CharField(
        label=_("Remedy requested"),
        required=False,
        max_length=NOTE_MAX_CHARS,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    legal_risk = forms.BooleanField(label=_("Legal risk"), required=False)
    sla_policy = forms.ModelChoiceField(
        label=_("SLA policy"), queryset=SlaPolicy.objects.all(), required=False
    )

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["project"].queryset = portfolio_for(user).select_related("client")
        self.fields["contact"].queryset = contacts_for(user).select_related("client")


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"), max_length=NOTE_MAX_CHARS, widget=forms.Textarea(attrs={"rows": 2})
    )


class ExtendForm(ReasonForm):
    days = forms.IntegerField(
        label=_("Extra days"), required=False, min_value=1, help_text=_("Empty: up to the policy's limit.")
    )


class ResolveForm(forms.Form):
    response_text = forms.CharField(
        label=_("Response given to the client"),
        help_text=_(
            "The client reads this exactly as written: on their complaint page and, when sent by "
            "e-mail, in the e-mail."
        ),
        required=False,
        max_length=NOTE_MAX_CHARS,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    response_channel = forms.ChoiceField(label=_("Sent by"), choices=ResponseChannel.choices)
    response_sent_at = DateTimeField(label=_("Sent at"), required=False, widget=DATETIME)
    root_cause = forms.ChoiceField(
        label=_("Root cause"), choices=[("", "—"), *RootCause.choices], required=False
    )


class CloseForm(forms.Form):
    client_confirmed = forms.BooleanField(label=_("The client confirmed the outcome"), required=False)
    reason = forms.CharField(
        label=_("Otherwise, why close it"),
        required=False,
        max_length=NOTE_MAX_CHARS,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class NoteForm(forms.Form):
    text = forms.CharField(
        label=_("Note"), max_length=NOTE_MAX_CHARS, widget=forms.Textarea(attrs={"rows": 2})
    )


class RecoveryActionForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=RecoveryKind.choices)
    description = forms.CharField(
        label=_("What will be done"), max_length=NOTE_MAX_CHARS, widget=forms.Textarea(attrs={"rows": 2})
    )
    owner = forms.ModelChoiceField(
        label=_("Owner"),
        queryset=User.objects.none(),
        error_messages={
            "invalid_choice": _(
                "This person cannot see the complaint's project: hand the action to someone who "
                "can, or to department staff."
            )
        },
    )
    due_at = DateTimeField(label=_("Due"), widget=DATETIME)

    def __init__(self, *args, project, **kwargs):
        super().__init__(*args, **kwargs)
        # Only who may be named (`services.check_action_owner`): who sees the project, and
        # department staff.
        self.fields["owner"].queryset = recovery_action_owners(project)


class FollowUpForm(forms.Form):
    outcome = forms.CharField(
        label=_("What the client said"), max_length=NOTE_MAX_CHARS, widget=forms.Textarea(attrs={"rows": 2})
    )
    client_satisfied = forms.NullBooleanField(label=_("Client satisfied"), required=False)


class AssignForm(forms.Form):
    owner = forms.ModelChoiceField(
        label=_("Handler"),
        queryset=User.objects.none(),
        error_messages={"invalid_choice": _("This person cannot see the complaint's project.")},
    )
    rm_handling_reason = forms.CharField(
        label=_("Why the project's RM handles it (manager only)"), required=False, max_length=NOTE_MAX_CHARS
    )

    def __init__(self, *args, project, **kwargs):
        super().__init__(*args, **kwargs)
        # Only who may be named (`services._check_assignee`): active and shown the project.
        self.fields["owner"].queryset = users_who_see(project).order_by("first_name", "last_name", "username")


class CompensationForm(forms.Form):
    amount = forms.DecimalField(label=_("Amount"), max_digits=14, decimal_places=2, min_value=0)
    currency = forms.ChoiceField(label=_("Currency"), choices=Currency.choices)


class MergeForm(forms.Form):
    into = forms.IntegerField(widget=forms.HiddenInput)


class CaseForm(forms.Form):
    """The narrative comes prefilled with the complaint and the response, scrubbed: the publisher
    reads and edits it, and what they confirm is what is published."""

    title_zh = forms.CharField(label=_("Title (Chinese)"), required=False)
    title_en = forms.CharField(label=_("Title (English)"), required=False)
    summary_zh = forms.CharField(
        label=_("What happened (Chinese)"),
        required=False,
        max_length=NOTE_MAX_CHARS,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_(
            "Drafted from the complaint and the response with names, contact details and amounts "
            "replaced. Check it and remove anything else that could identify the client."
        ),
    )
    summary_en = forms.CharField(
        label=_("What happened (English)"),
        required=False,
        max_length=NOTE_MAX_CHARS,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_("Empty when nothing was written in English: write it here, or leave the Chinese only."),
    )
    lessons_zh = forms.CharField(label=_("Lessons learned (Chinese)"), required=False, widget=forms.Textarea)
    lessons_en = forms.CharField(label=_("Lessons learned (English)"), required=False, widget=forms.Textarea)
    what_worked_zh = forms.CharField(label=_("What worked (Chinese)"), required=False, widget=forms.Textarea)
    what_worked_en = forms.CharField(label=_("What worked (English)"), required=False, widget=forms.Textarea)


class ComplaintFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("All")), ("open", pgettext_lazy("complaint status", "Open")), *Status.choices],
    )
    category = forms.ChoiceField(
        label=_("Category"), required=False, choices=[("", _("All")), *FailureCategory.choices]
    )
    severity = forms.ChoiceField(
        label=_("Severity"), required=False, choices=[("", _("All")), *Severity.choices]
    )
    overdue = forms.BooleanField(label=_("Overdue only"), required=False)
    q = forms.CharField(label=_("Search"), required=False)


class CaseFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False)
    category = forms.ChoiceField(
        label=_("Category"), required=False, choices=[("", _("All")), *FailureCategory.choices]
    )
    root_cause = forms.ChoiceField(
        label=_("Root cause"), required=False, choices=[("", _("All")), *RootCause.choices]
    )


class ReportFilterForm(forms.Form):
    start = DateField(label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    end = DateField(label=_("Until"), required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("start"), cleaned.get("end")
        if start and end and end < start:
            self.add_error("end", _("The period ends before it starts."))
        return cleaned
