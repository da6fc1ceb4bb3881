"""DRF serializers for the core domain.

They check the shape of the input (types, choices, lengths, which related rows the caller may
name) and hand every write to `finance_projects.services`, where the business rules live. Related
fields take their querysets from the caller's scope, so naming another team's client, project,
contact or colleague is a 400 on that field, exactly like naming one that does not exist.
"""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from cem.serializer_fields import DateTimeField, ModelSerializer

from . import selectors, services
from .models import RECORDED_CHANNELS, Client, Commitment, Contact, FinancingProject, Stage, Touchpoint


class ScopedPrimaryKeyField(serializers.PrimaryKeyRelatedField):
    """A primary key limited to what `scope(user)` returns for the requesting user."""

    def __init__(self, scope, **kwargs):
        self.scope = scope
        super().__init__(**kwargs)

    def get_queryset(self):
        request = self.context.get("request")
        if request is None:
            raise RuntimeError("ScopedPrimaryKeyField needs the request in the serializer context.")
        return self.scope(request.user)


class ClientSerializer(ModelSerializer):
    relationship_manager = ScopedPrimaryKeyField(
        selectors.assignable_users_for,
        required=False,
        help_text=_("User id; defaults to the caller. The client joins this person's team."),
    )

    class Meta:
        model = Client
        fields = ["id", "name", "industry", "region", "relationship_manager", "team", "created_at"]
        read_only_fields = ["team", "created_at"]

    def create(self, validated_data):
        validated_data.setdefault("relationship_manager", self.context["request"].user)
        return services.client_create(**validated_data)

    def update(self, instance, validated_data):
        return services.client_update(client=instance, **validated_data)


class ContactSerializer(ModelSerializer):
    client = ScopedPrimaryKeyField(selectors.clients_for)

    class Meta:
        model = Contact
        fields = ["id", "client", "name", "title", "email", "phone", "language", "opted_out", "created_at"]
        read_only_fields = ["created_at"]
        # Uniqueness (one email per client) is a rule of the service, reported on `email`.
        validators = []

    def create(self, validated_data):
        return services.contact_create(**validated_data)

    def update(self, instance, validated_data):
        return services.contact_update(contact=instance, **validated_data)


class ProjectSerializer(ModelSerializer):
    client = ScopedPrimaryKeyField(selectors.clients_for)
    relationship_manager = ScopedPrimaryKeyField(
        selectors.assignable_users_for,
        required=False,
        help_text=_("User id; defaults to the caller. Must belong to the client's team."),
    )
    stage = serializers.ChoiceField(
        choices=Stage.choices,
        required=False,
        help_text=_("The starting stage on creation; later changes go through the move-stage action."),
    )

    class Meta:
        model = FinancingProject
        fields = [
            "id",
            "client",
            "name",
            "code",
            "amount",
            "currency",
            "stage",
            "status",
            "relationship_manager",
            "team",
            "update_cadence_days",
            "last_client_update_at",
            "next_update_due_at",
            "stage_entered_at",
            "health",
            "created_at",
            "updated_at",
        ]
        read_only_fields = [
            "team",
            "last_client_update_at",
            "next_update_due_at",
            "stage_entered_at",
            "health",
            "created_at",
            "updated_at",
        ]

    def create(self, validated_data):
        user = self.context["request"].user
        validated_data.setdefault("relationship_manager", user)
        return services.project_create(created_by=user, **validated_data)

    def update(self, instance, validated_data):
        return services.project_update(project=instance, **validated_data)


class MoveStageSerializer(serializers.Serializer):
    stage = serializers.ChoiceField(choices=Stage.choices)
    override = serializers.BooleanField(
        default=False, help_text=_("A manager's override to skip a stage or go back.")
    )
    note = serializers.CharField(required=False, allow_blank=True, default="")


class TouchpointSerializer(ModelSerializer):
    project = ScopedPrimaryKeyField(selectors.portfolio_for)
    contact = ScopedPrimaryKeyField(selectors.contacts_for, required=False, allow_null=True)

    class Meta:
        model = Touchpoint
        fields = [
            "id",
            "project",
            "contact",
            "channel",
            "occurred_at",
            "summary",
            "is_client_update",
            "shareable",
            "needs_attention",
            "logged_by",
            "created_at",
        ]
        read_only_fields = ["logged_by", "created_at"]

    def validate_channel(self, value):
        if value in RECORDED_CHANNELS:
            raise serializers.ValidationError(
                _("This channel is recorded by the product where it happens, not logged by hand.")
            )
        return value

    def create(self, validated_data):
        return services.touchpoint_log(logged_by=self.context["request"].user, **validated_data)


class CommitmentSerializer(ModelSerializer):
    project = ScopedPrimaryKeyField(selectors.portfolio_for)
    owner = ScopedPrimaryKeyField(
        selectors.assignable_users_for, required=False, help_text=_("User id; defaults to the caller.")
    )
    is_missed = serializers.SerializerMethodField()

    class Meta:
        model = Commitment
        fields = [
            "id",
            "project",
            "title",
            "description",
            "kind",
            "owner",
            "department",
            "due_at",
            "status",
            "fulfilled_at",
            "is_missed",
            "closed_at",
            "close_reason",
            "renegotiated_from",
            "created_by",
            "created_at",
        ]
        read_only_fields = [
            "status",
            "fulfilled_at",
            "closed_at",
            "close_reason",
            "renegotiated_from",
            "created_by",
            "created_at",
        ]

    @extend_schema_field(OpenApiTypes.BOOL)
    def get_is_missed(self, commitment: Commitment) -> bool:
        missed = getattr(commitment, "missed", None)
        return commitment.is_missed() if missed is None else missed

    def create(self, validated_data):
        user = self.context["request"].user
        validated_data.setdefault("owner", user)
        return services.commitment_create(created_by=user, **validated_data)

    def update(self, instance, validated_data):
        # A full PUT repeats the fields that cannot change; only real changes reach the service.
        changes = {name: value for name, value in validated_data.items() if getattr(instance, name) != value}
        return services.commitment_update(commitment=instance, by=self.context["request"].user, **changes)


class RenegotiateSerializer(serializers.Serializer):
    new_due_at = DateTimeField()
    reason = serializers.CharField()


class CancelSerializer(serializers.Serializer):
    reason = serializers.CharField()
