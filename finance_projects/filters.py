"""Query-string filters for the core domain's API lists.

Ids are plain numbers (not model choices): filtering on a colleague or a project outside the
caller's scope simply finds nothing, and never reveals whether the row exists.
"""

from datetime import UTC

import django_filters
from django import forms
from django.utils.translation import gettext_lazy as _
from django_filters.fields import IsoDateTimeField

from accounts.models import Department

from .models import (
    Client,
    Commitment,
    CommitmentKind,
    CommitmentStatus,
    Contact,
    Currency,
    FinancingProject,
    Language,
    ProjectStatus,
    Stage,
    Touchpoint,
    TouchpointChannel,
)


class UtcIsoDateTimeField(IsoDateTimeField):
    """ISO 8601 with any offset, compared in UTC: PostgreSQL refuses offsets beyond ±15:59."""

    def to_python(self, value):
        value = super().to_python(value)
        if value is None:
            return value
        try:
            return value.astimezone(UTC)
        except OverflowError as error:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid") from error


class DateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = UtcIsoDateTimeField


class StrictBooleanField(forms.Field):
    """true/false (also 1/0, yes/no), any case; anything else is a 400 naming the filter, not a
    filter silently ignored (a list filtered on `open=1` must not quietly show resolved rows)."""

    widget = forms.TextInput
    VALUES = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}

    def to_python(self, value):
        if value in self.empty_values:
            return None
        try:
            return self.VALUES[str(value).strip().lower()]
        except KeyError:
            raise forms.ValidationError(_("Use true or false."), code="invalid") from None


class BooleanFilter(django_filters.BooleanFilter):
    field_class = StrictBooleanField


class IdFilter(django_filters.NumberFilter):
    """A row id: a whole number in the database's bigint range, else a 400 naming the filter."""

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", 2**63 - 1)
        super().__init__(*args, **kwargs)


class ClientFilter(django_filters.FilterSet):
    relationship_manager = IdFilter(field_name="relationship_manager_id")
    team = IdFilter(field_name="team_id")
    industry = django_filters.CharFilter(lookup_expr="iexact")
    region = django_filters.CharFilter(lookup_expr="iexact")

    class Meta:
        model = Client
        fields = []


class ContactFilter(django_filters.FilterSet):
    client = IdFilter(field_name="client_id")
    language = django_filters.ChoiceFilter(choices=Language.choices)
    opted_out = BooleanFilter()

    class Meta:
        model = Contact
        fields = []


class ProjectFilter(django_filters.FilterSet):
    stage = django_filters.MultipleChoiceFilter(choices=Stage.choices, help_text=_("Repeat for several."))
    status = django_filters.MultipleChoiceFilter(
        choices=ProjectStatus.choices, help_text=_("Repeat for several.")
    )
    currency = django_filters.ChoiceFilter(choices=Currency.choices)
    relationship_manager = IdFilter(field_name="relationship_manager_id")
    client = IdFilter(field_name="client_id")
    team = IdFilter(field_name="team_id")
    update_overdue_at = DateTimeFilter(
        field_name="next_update_due_at",
        lookup_expr="lt",
        help_text=_("Projects whose next client update was due before this time."),
    )

    class Meta:
        model = FinancingProject
        fields = []


class TouchpointFilter(django_filters.FilterSet):
    project = IdFilter(field_name="project_id")
    contact = IdFilter(field_name="contact_id")
    channel = django_filters.MultipleChoiceFilter(choices=TouchpointChannel.choices)
    is_client_update = BooleanFilter()
    occurred_after = DateTimeFilter(field_name="occurred_at", lookup_expr="gte")
    occurred_before = DateTimeFilter(field_name="occurred_at", lookup_expr="lt")

    class Meta:
        model = Touchpoint
        fields = []


class CommitmentFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=CommitmentStatus.choices)
    kind = django_filters.MultipleChoiceFilter(choices=CommitmentKind.choices)
    department = django_filters.ChoiceFilter(choices=Department.choices)
    owner = IdFilter(field_name="owner_id")
    project = IdFilter(field_name="project_id")
    due_after = DateTimeFilter(field_name="due_at", lookup_expr="gte")
    due_before = DateTimeFilter(field_name="due_at", lookup_expr="lt")
    missed = BooleanFilter(field_name="missed", help_text=_("Open and past due (true) or not (false)."))

    class Meta:
        model = Commitment
        fields = []
