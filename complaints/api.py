"""`/api/v1/complaints/`, `complaint-actions/` and `complaint-followups/`.

Querysets start from `complaints.selectors` (so another team's complaint answers 404) and every
write goes through `complaints.services`, whose `ValidationError`s answer 400 keyed by field.
A closed complaint is read-only: edits answer 400 with the reason until it is reopened.
"""

from django.utils.translation import gettext_lazy as _
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.filters import SearchFilter
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from accounts.models import User
from cem.filter_backends import RankedOrderingFilter, StrictFilterBackend
from cem.serializer_fields import DateTimeField, ModelSerializer
from finance_projects.filters import BooleanFilter, IdFilter
from finance_projects.models import Currency, RootCause
from finance_projects.selectors import contacts_for, portfolio_for

from . import selectors, services
from .models import OPEN_STATUSES, Complaint, FollowUpVisit, RecoveryAction, ResponseChannel


class ComplaintSerializer(ModelSerializer):
    # Blank until compensation is agreed / the response is sent; the schema must say so.
    compensation_currency = serializers.ChoiceField(
        choices=Currency.choices, allow_blank=True, read_only=True
    )
    response_channel = serializers.ChoiceField(
        choices=ResponseChannel.choices, allow_blank=True, read_only=True
    )

    class Meta:
        model = Complaint
        fields = [
            "id",
            "reference",
            "project",
            "contact",
            "channel",
            "category",
            "severity",
            "description",
            "remedy_requested",
            "status",
            "owner",
            "received_at",
            "ack_due_at",
            "resolve_due_at",
            "acknowledged_at",
            "resolved_at",
            "closed_at",
            "root_cause",
            "legal_risk",
            "compensation_amount",
            "compensation_currency",
            "sla_policy",
            "allowed_days",
            "extension_count",
            "paused_at",
            "paused_seconds",
            "response_text",
            "response_channel",
            "response_sent_at",
            "client_confirmed",
            "close_reason",
            "merged_into",
            "escalated_at",
        ]
        read_only_fields = [
            "reference",
            "status",
            "ack_due_at",
            "resolve_due_at",
            "acknowledged_at",
            "resolved_at",
            "closed_at",
            "compensation_amount",
            "compensation_currency",
            "allowed_days",
            "extension_count",
            "paused_at",
            "paused_seconds",
            "response_text",
            "response_channel",
            "response_sent_at",
            "client_confirmed",
            "close_reason",
            "merged_into",
            "escalated_at",
        ]
        extra_kwargs = {"received_at": {"required": False}, "sla_policy": {"required": False}}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            self.fields["project"] = serializers.PrimaryKeyRelatedField(queryset=portfolio_for(user))
            self.fields["contact"] = serializers.PrimaryKeyRelatedField(queryset=contacts_for(user))
            self.fields["owner"] = serializers.PrimaryKeyRelatedField(
                queryset=User.objects.filter(is_active=True), required=False, allow_null=True
            )
        if self.instance is not None and not isinstance(self.instance, list | tuple):
            # Where a complaint is about, and who raised it, is fixed once it is recorded.
            for name in ("project", "contact", "channel", "received_at", "sla_policy", "owner"):
                self.fields[name].read_only = True


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(allow_blank=True, required=False, default="")


class ExtendSerializer(serializers.Serializer):
    reason = serializers.CharField(allow_blank=True)
    days = serializers.IntegerField(required=False, min_value=1)


class ResolveSerializer(serializers.Serializer):
    response_text = serializers.CharField(allow_blank=True)
    response_channel = serializers.ChoiceField(choices=ResponseChannel.choices)
    response_sent_at = DateTimeField(required=False)
    root_cause = serializers.ChoiceField(choices=RootCause.choices, required=False)


class CloseSerializer(serializers.Serializer):
    client_confirmed = serializers.BooleanField(default=False)
    reason = serializers.CharField(allow_blank=True, required=False, default="")


class CompensationSerializer(serializers.Serializer):
    amount = serializers.DecimalField(max_digits=14, decimal_places=2)
    currency = serializers.ChoiceField(choices=Currency.choices)


class ComplaintAssignSerializer(serializers.Serializer):
    owner = serializers.PrimaryKeyRelatedField(queryset=User.objects.filter(is_active=True))
    rm_handling_reason = serializers.CharField(allow_blank=True, required=False, default="")


class ComplaintFilter(filters.FilterSet):
    open = BooleanFilter(method="filter_open")
    # Plain ids, not model choices: a row outside the caller's scope filters to nothing, exactly
    # like one that does not exist, so the filter never reveals another team's rows.
    project = IdFilter(field_name="project_id")
    owner = IdFilter(field_name="owner_id")

    class Meta:
        model = Complaint
        fields = ["status", "category", "severity", "channel", "project", "owner", "root_cause"]

    def filter_open(self, queryset, name, value):
        if value:
            return queryset.filter(status__in=OPEN_STATUSES)
        return queryset.exclude(status__in=OPEN_STATUSES)


class RecoveryActionFilter(filters.FilterSet):
    complaint = IdFilter(field_name="complaint_id")
    owner = IdFilter(field_name="owner_id")

    class Meta:
        model = RecoveryAction
        fields = ["complaint", "kind", "owner"]


class FollowUpFilter(filters.FilterSet):
    complaint = IdFilter(field_name="complaint_id")

    class Meta:
        model = FollowUpVisit
        fields = ["complaint"]


class ComplaintOrdering(RankedOrderingFilter):
    # Severity by rank (low < medium < high < critical, `selectors.with_severity_rank`).
    ordered_by = {"severity": "severity_rank"}
    tie_breakers = ("-received_at", "-id")


class ComplaintViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    serializer_class = ComplaintSerializer
    permission_classes = [IsAuthenticated]
    filterset_class = ComplaintFilter
    filter_backends = [StrictFilterBackend, ComplaintOrdering, SearchFilter]
    search_fields = ["reference", "description"]
    ordering_fields = ["received_at", "resolve_due_at", "ack_due_at", "severity"]

    def get_queryset(self):
        complaints = selectors.complaints_for(self.request.user).select_related("project", "contact", "owner")
        return selectors.with_severity_rank(complaints)

    def _may_act(self, complaint: Complaint) -> None:
        if not selectors.can_handle(self.request.user, complaint):
            raise PermissionDenied(_("You may read this complaint but not change it."))

    def perform_create(self, serializer):
        if self.request.user.is_department_staff:
            raise PermissionDenied(_("Department staff may not record complaints."))
        data = serializer.validated_data
        serializer.instance = services.complaint_create(
            project=data["project"],
            contact=data["contact"],
            channel=data["channel"],
            category=data["category"],
            description=data["description"],
            severity=data.get("severity", "medium"),
            remedy_requested=data.get("remedy_requested", ""),
            received_at=data.get("received_at"),
            owner=data.get("owner"),
            sla_policy=data.get("sla_policy"),
            legal_risk=data.get("legal_risk", False),
            created_by=self.request.user,
        )

    def perform_update(self, serializer):
        self._may_act(serializer.instance)
        fields = {k: v for k, v in serializer.validated_data.items() if k in services.EDITABLE_FIELDS}
        serializer.instance = services.complaint_update(
            complaint=serializer.instance, by=self.request.user, **fields
        )

    def _run(self, request, serializer_class, call):
        complaint = self.get_object()
        self._may_act(complaint)
        data = {}
        if serializer_class is not None:
            serializer = serializer_class(data=request.data, context={"request": request})
            serializer.is_valid(raise_exception=True)
            data = serializer.validated_data
        updated = call(complaint, data)
        return Response(ComplaintSerializer(updated, context={"request": request}).data)

    @extend_schema(request=None, responses=ComplaintSerializer)
    @action(detail=True, methods=["post"])
    def acknowledge(self, request, pk=None):
        return self._run(
            request, None, lambda c, d: services.complaint_acknowledge(complaint=c, by=request.user)
        )

    @extend_schema(request=None, responses=ComplaintSerializer)
    @action(detail=True, methods=["post"])
    def investigate(self, request, pk=None):
        return self._run(
            request, None, lambda c, d: services.complaint_start_investigation(complaint=c, by=request.user)
        )

    @extend_schema(request=ResolveSerializer, responses=ComplaintSerializer)
    @action(detail=True, methods=["post"])
    def resolve(self, request, pk=None):
        return self._run(
            request,
            ResolveSerializer,
            lambda c, d: services.complaint_resolve(complaint=c, by=request.user, **d),
        )

    @extend_schema(request=CloseSerializer, responses=ComplaintSerializer)
    @action(detail=True, methods=["post"])
    def close(self, request, pk=None):
        return self._run(
            request, CloseSerializer, lambda c, d: services.complaint_close(complaint=c, by=request.user, **d)
        )

    @extend_schema(request=ReasonSerializer, responses=ComplaintSerializer)
    @action(detail=True, methods=["post"])
    def reopen(self, request, pk=None):
        return self._run(
            request,
            ReasonSerializer,
            lambda c, d: services.complaint_reopen(complaint=c, by=request.user, **d),
        )

    @extend_schema(request=ExtendSerializer, responses=ComplaintSerializer)
    @action(detail=True, methods=["post"])
    def extend(self, request, pk=None):
        return self._run(
            request,
            ExtendSerializer,
            lambda c, d: services.complaint_extend(complaint=c, by=request.user, **d),
        )

    @extend_schema(request=ReasonSerializer, responses=ComplaintSerializer)
    @action(detail=True, methods=["post"])
    def pause(self, request, pk=None):
        return self._run(
            request,
            ReasonSerializer,
            lambda c, d: services.complaint_pause(complaint=c, by=request.user, **d),
        )

    @extend_schema(request=None, responses=ComplaintSerializer)
    @action(detail=True, methods=["post"])
    def resume(self, request, pk=None):
        return self._run(request, None, lambda c, d: services.complaint_resume(complaint=c, by=request.user))

    @extend_schema(request=ComplaintAssignSerializer, responses=ComplaintSerializer)
    @action(detail=True, methods=["post"])
    def assign(self, request, pk=None):
        return self._run(
            request,
            ComplaintAssignSerializer,
            lambda c, d: services.complaint_assign(complaint=c, by=request.user, **d),
        )

    @extend_schema(request=CompensationSerializer, responses=ComplaintSerializer)
    @action(detail=True, methods=["post"])
    def compensation(self, request, pk=None):
        return self._run(
            request,
            CompensationSerializer,
            lambda c, d: services.complaint_set_compensation(complaint=c, by=request.user, **d),
        )


class RecoveryActionSerializer(ModelSerializer):
    class Meta:
        model = RecoveryAction
        fields = ["id", "complaint", "kind", "description", "owner", "due_at", "done_at", "created_at"]
        read_only_fields = ["done_at", "created_at"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None and request.user.is_authenticated:
            self.fields["complaint"] = serializers.PrimaryKeyRelatedField(
                queryset=selectors.complaints_for(request.user)
            )
            self.fields["owner"] = serializers.PrimaryKeyRelatedField(
                queryset=User.objects.filter(is_active=True)
            )


class RecoveryActionViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet
):
    serializer_class = RecoveryActionSerializer
    permission_classes = [IsAuthenticated]
    filterset_class = RecoveryActionFilter

    def get_queryset(self):
        return selectors.recovery_actions_for(self.request.user).select_related("complaint")

    def perform_create(self, serializer):
        data = serializer.validated_data
        if not selectors.can_handle(self.request.user, data["complaint"]):
            raise PermissionDenied(_("You may read this complaint but not change it."))
        serializer.instance = services.recovery_action_add(by=self.request.user, **data)

    @extend_schema(request=None, responses=RecoveryActionSerializer)
    @action(detail=True, methods=["post"])
    def complete(self, request, pk=None):
        recovery = self.get_object()
        if recovery.owner_id != request.user.pk and not selectors.can_handle(
            request.user, recovery.complaint
        ):
            raise PermissionDenied(_("Only the action's owner or the complaint's handler may complete it."))
        done = services.recovery_action_complete(action=recovery, by=request.user)
        return Response(RecoveryActionSerializer(done, context={"request": request}).data)


class FollowUpSerializer(ModelSerializer):
    class Meta:
        model = FollowUpVisit
        fields = [
            "id",
            "complaint",
            "offset_days",
            "due_at",
            "done_at",
            "cancelled_at",
            "outcome",
            "client_satisfied",
        ]
        read_only_fields = fields


class FollowUpDoneSerializer(serializers.Serializer):
    outcome = serializers.CharField(allow_blank=True)
    client_satisfied = serializers.BooleanField(required=False, allow_null=True, default=None)


class FollowUpViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = FollowUpSerializer
    permission_classes = [IsAuthenticated]
    filterset_class = FollowUpFilter

    def get_queryset(self):
        return selectors.followups_for(self.request.user)

    @extend_schema(request=FollowUpDoneSerializer, responses=FollowUpSerializer)
    @action(detail=True, methods=["post"])
    def complete(self, request, pk=None):
        visit = self.get_object()
        if not selectors.can_handle(request.user, visit.complaint):
            raise PermissionDenied(_("You may read this complaint but not change it."))
        serializer = FollowUpDoneSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        done = services.followup_complete(followup=visit, by=request.user, **serializer.validated_data)
        return Response(FollowUpSerializer(done).data)


ROUTES = [
    ("complaints", ComplaintViewSet, "complaint"),
    ("complaint-actions", RecoveryActionViewSet, "complaint-action"),
    ("complaint-followups", FollowUpViewSet, "complaint-followup"),
]
URLPATTERNS = []
