"""`/api/v1/alerts/`: the early-warning alerts the caller may see, and what people do with them.

Alerts are written by the scans (and by events such as a detractor's survey answer); people
only acknowledge, snooze (and unsnooze) and assign them, each through `finance_projects.alerts`.
"""

import django_filters
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.filters import SearchFilter
from rest_framework.response import Response

from accounts.models import User
from cem.filter_backends import RankedOrderingFilter, StrictFilterBackend
from cem.serializer_fields import DateTimeField, ModelSerializer

from .. import alerts, selectors
from ..filters import BooleanFilter, IdFilter
from ..models import Alert, AlertKind, AlertSeverity


class AlertSubjectSerializer(serializers.Serializer):
    type = serializers.CharField(source="subject_type", read_only=True)
    id = serializers.IntegerField(source="subject_id", read_only=True)


class AlertSerializer(ModelSerializer):
    subject = AlertSubjectSerializer(source="*", read_only=True)
    kind_display = serializers.CharField(source="get_kind_display", read_only=True)
    severity_display = serializers.CharField(source="get_severity_display", read_only=True)
    is_open = serializers.BooleanField(read_only=True)
    last_seen_at = serializers.DateTimeField(
        source="seen_at", read_only=True, help_text=_("When the alert was last seen to hold.")
    )

    class Meta:
        model = Alert
        fields = [
            "id",
            "kind",
            "kind_display",
            "severity",
            "severity_display",
            "project",
            "subject",
            "message",
            "assignee",
            "opened_at",
            "last_seen_at",
            "resolved_at",
            "is_open",
            "acknowledged_at",
            "acknowledged_by",
            "snoozed_until",
        ]
        read_only_fields = fields


class SnoozeSerializer(serializers.Serializer):
    until = DateTimeField(help_text=_("Hide the alert until this moment (in the future)."))


class AssignSerializer(serializers.Serializer):
    # A whole number only (not 1.5 or true), and an id nobody has gets the same answer as someone
    # who cannot see the project: the answer does not tell which ids exist in other teams.
    assignee = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.filter(is_active=True),
        pk_field=serializers.IntegerField(),
        error_messages={"does_not_exist": _("This person cannot see the alert's project.")},
        help_text=_("User id; they must see the project."),
    )


class AlertFilter(django_filters.FilterSet):
    open = BooleanFilter(field_name="resolved_at", lookup_expr="isnull", label=_("Open (not resolved)"))
    kind = django_filters.MultipleChoiceFilter(choices=AlertKind.choices)
    severity = django_filters.MultipleChoiceFilter(choices=AlertSeverity.choices)
    # Plain ids: another team's project filters to nothing, exactly like one that does not exist.
    project = IdFilter(field_name="project_id")
    assignee = IdFilter(field_name="assignee_id")

    class Meta:
        model = Alert
        fields = ["open", "kind", "severity", "project", "assignee"]


class AlertOrdering(RankedOrderingFilter):
    # `last_seen_at` as the list shows it (`with_last_seen`); severity by rank (info < critical).
    ordered_by = {"last_seen_at": "seen_at", "severity": "severity_rank"}
    tie_breakers = ("-opened_at", "-id")


@extend_schema_view(
    list=extend_schema(summary=_("Alerts on the projects the caller may see")),
    retrieve=extend_schema(summary=_("One alert")),
)
class AlertViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = AlertSerializer
    filterset_class = AlertFilter
    filter_backends = [StrictFilterBackend, AlertOrdering, SearchFilter]
    search_fields = ["message"]
    ordering_fields = ["opened_at", "last_seen_at", "severity", "resolved_at", "id"]

    def get_queryset(self):
        alerts = selectors.alerts_for(self.request.user).order_by("-opened_at", "-id")
        return selectors.with_severity_rank(selectors.with_last_seen(alerts))

    def _respond(self, alert):
        # Read back through the list's queryset, for the fields it computes.
        return Response(self.get_serializer(self.get_queryset().get(pk=alert.pk)).data)

    @extend_schema(summary=_("Acknowledge the alert (stops its escalation)"), request=None)
    @action(detail=True, methods=["post"])
    def acknowledge(self, request, pk=None):
        return self._respond(alerts.alert_acknowledge(alert=self.get_object(), by=request.user))

    @extend_schema(summary=_("Snooze the alert until a moment in the future"), request=SnoozeSerializer)
    @action(detail=True, methods=["post"])
    def snooze(self, request, pk=None):
        alert = self.get_object()
        payload = SnoozeSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        return self._respond(
            alerts.alert_snooze(alert=alert, until=payload.validated_data["until"], by=request.user)
        )

    @extend_schema(summary=_("End the alert's snooze now"), request=None)
    @action(detail=True, methods=["post"])
    def unsnooze(self, request, pk=None):
        return self._respond(alerts.alert_unsnooze(alert=self.get_object(), by=request.user))

    @extend_schema(summary=_("Hand the alert to someone who can see its project"), request=AssignSerializer)
    @action(detail=True, methods=["post"])
    def assign(self, request, pk=None):
        alert = self.get_object()
        if request.user.is_department_staff:
            raise PermissionDenied(_("Department staff cannot reassign alerts."))
        payload = AssignSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        return self._respond(
            alerts.alert_assign(alert=alert, assignee=payload.validated_data["assignee"], by=request.user)
        )


ROUTES = [("alerts", AlertViewSet, "alert")]
URLPATTERNS = []
