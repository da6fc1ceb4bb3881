"""`/api/v1/` clients, contacts, projects, touchpoints and commitments.

Every queryset starts from `finance_projects.selectors`, so another team's object answers 404;
every write goes through `finance_projects.services`, whose `ValidationError`s the project's
exception handler turns into a 400 keyed by field.
"""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import SAFE_METHODS, BasePermission, IsAuthenticated
from rest_framework.response import Response

from .. import selectors, services
from ..filters import ClientFilter, CommitmentFilter, ContactFilter, ProjectFilter, TouchpointFilter
from ..serializers import (
    CancelSerializer,
    ClientSerializer,
    CommitmentSerializer,
    ContactSerializer,
    MoveStageSerializer,
    ProjectSerializer,
    RenegotiateSerializer,
    TouchpointSerializer,
)


class CoreWritePermission(BasePermission):
    """Everyone reads their own scope. Department staff only read, except the actions a view
    lists in `department_actions` (fulfilling a commitment they own). Changing an existing row
    needs the right to edit its project (or client)."""

    message = _("You may read this but not change it.")

    def has_permission(self, request, view):
        if request.method in SAFE_METHODS:
            return True
        if request.user.is_department_staff:
            return view.action in getattr(view, "department_actions", ())
        return True

    def has_object_permission(self, request, view, obj):
        if request.method in SAFE_METHODS or view.action in getattr(view, "department_actions", ()):
            return True
        return view.may_edit(request.user, obj)


def _may_edit_client(user, client) -> bool:
    if user.is_admin_role or user.is_manager:
        return True  # their querysets already stop at the teams they lead
    return client.relationship_manager_id == user.pk


class CoreViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    permission_classes = [IsAuthenticated, CoreWritePermission]
    department_actions: tuple[str, ...] = ()

    def may_edit(self, user, obj) -> bool:
        return selectors.can_edit_project(user, obj.project)


@extend_schema_view(
    list=extend_schema(summary=_("Clients the caller may see")),
    create=extend_schema(summary=_("Add a client to the team of its relationship manager")),
)
class ClientViewSet(CoreViewSet):
    serializer_class = ClientSerializer
    filterset_class = ClientFilter
    search_fields = ["name", "industry", "region"]
    ordering_fields = ["name", "industry", "region", "created_at"]

    def get_queryset(self):
        return selectors.clients_for(self.request.user)

    def may_edit(self, user, obj) -> bool:
        return _may_edit_client(user, obj)


@extend_schema_view(list=extend_schema(summary=_("Contacts of the clients the caller may see")))
class ContactViewSet(mixins.DestroyModelMixin, CoreViewSet):
    serializer_class = ContactSerializer
    filterset_class = ContactFilter
    search_fields = ["name", "email", "phone", "client__name"]
    ordering_fields = ["name", "email", "created_at"]

    def get_queryset(self):
        return selectors.contacts_for(self.request.user).select_related("client")

    def may_edit(self, user, obj) -> bool:
        return _may_edit_client(user, obj.client)

    def perform_destroy(self, instance):
        services.contact_delete(contact=instance)  # one with a history: a 400 on `contact`


@extend_schema_view(
    list=extend_schema(summary=_("The caller's portfolio of financing projects")),
    create=extend_schema(summary=_("Open a financing project; its team is the client's team")),
)
class ProjectViewSet(CoreViewSet):
    serializer_class = ProjectSerializer
    filterset_class = ProjectFilter
    search_fields = ["name", "code", "client__name"]
    ordering_fields = [
        "name",
        "code",
        "amount",
        "stage_entered_at",
        "last_client_update_at",
        "next_update_due_at",
        "health",
        "created_at",
    ]

    def get_queryset(self):
        return selectors.portfolio_for(self.request.user)

    def may_edit(self, user, obj) -> bool:
        return selectors.can_edit_project(user, obj)

    @extend_schema(
        summary=_("Move the project to another stage"),
        description=_(
            "One stage forward at a time; skipping or going back needs `override` by a manager "
            "and a `note` saying why."
        ),
        request=MoveStageSerializer,
        responses={200: ProjectSerializer, 400: OpenApiResponse(description=_("Refused, by field."))},
    )
    @action(detail=True, methods=["post"], url_path="move-stage")
    def move_stage(self, request, pk=None):
        project = self.get_object()
        payload = MoveStageSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        transition = services.project_move_stage(
            project=project,
            to_stage=payload.validated_data["stage"],
            moved_by=request.user,
            override=payload.validated_data["override"],
            note=payload.validated_data["note"],
        )
        return Response(self.get_serializer(transition.project).data)


@extend_schema_view(
    list=extend_schema(summary=_("Touchpoints on the caller's projects")),
    create=extend_schema(summary=_("Log a touchpoint; a client update moves the next-update deadline")),
)
class TouchpointViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet
):
    """Touchpoints are a log: they are added, never edited."""

    permission_classes = [IsAuthenticated, CoreWritePermission]
    serializer_class = TouchpointSerializer
    filterset_class = TouchpointFilter
    search_fields = ["summary", "contact__name"]
    ordering_fields = ["occurred_at", "created_at"]

    def get_queryset(self):
        return selectors.touchpoints_for(self.request.user)


@extend_schema_view(
    list=extend_schema(summary=_("Commitments on the caller's projects")),
    create=extend_schema(summary=_("Record a promise made to the client")),
)
class CommitmentViewSet(CoreViewSet):
    serializer_class = CommitmentSerializer
    filterset_class = CommitmentFilter
    search_fields = ["title", "description", "project__code", "project__name"]
    ordering_fields = ["due_at", "created_at", "fulfilled_at", "status"]
    department_actions = ("fulfil",)

    def get_queryset(self):
        return selectors.with_missed(selectors.commitments_for(self.request.user)).select_related(
            "project__client"
        )

    def _respond(self, commitment, status_code=status.HTTP_200_OK):
        return Response(self.get_serializer(commitment).data, status=status_code)

    @extend_schema(
        summary=_("Mark the commitment fulfilled"),
        description=_("Its owner (department staff included) or anyone who may edit the project."),
        request=None,
        responses={200: CommitmentSerializer},
    )
    @action(detail=True, methods=["post"])
    def fulfil(self, request, pk=None):
        commitment = self.get_object()
        if not selectors.can_change_commitment(request.user, commitment):
            raise PermissionDenied(_("Only the owner or the project's relationship manager may do this."))
        return self._respond(services.commitment_fulfil(commitment=commitment, by=request.user))

    @extend_schema(
        summary=_("Agree a new due date"),
        description=_(
            "Closes this commitment as renegotiated and answers with its successor, due at `new_due_at`."
        ),
        request=RenegotiateSerializer,
        responses={201: CommitmentSerializer},
    )
    @action(detail=True, methods=["post"])
    def renegotiate(self, request, pk=None):
        commitment = self.get_object()
        payload = RenegotiateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        successor = services.commitment_renegotiate(
            commitment=commitment, by=request.user, **payload.validated_data
        )
        return self._respond(successor, status.HTTP_201_CREATED)

    @extend_schema(
        summary=_("Cancel the commitment"), request=CancelSerializer, responses={200: CommitmentSerializer}
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        commitment = self.get_object()
        payload = CancelSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        cancelled = services.commitment_cancel(
            commitment=commitment, by=request.user, reason=payload.validated_data["reason"]
        )
        return self._respond(cancelled)


ROUTES = [
    ("clients", ClientViewSet, "client"),
    ("contacts", ContactViewSet, "contact"),
    ("projects", ProjectViewSet, "project"),
    ("touchpoints", TouchpointViewSet, "touchpoint"),
    ("commitments", CommitmentViewSet, "commitment"),
]
URLPATTERNS = []
