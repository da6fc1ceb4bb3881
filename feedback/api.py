"""REST API for surveys: `surveys/`, `survey-invitations/`, `survey-responses/`, `metrics/`.

Every list is scoped through `portfolio_for`; another team's invitation or response answers
404. A manual send (POST survey-invitations/) returns the personal link once, as `url`. A
survey's questions are written with it (`feedback.services.survey_save`).
"""

from collections.abc import Mapping
from datetime import datetime, time, timedelta

from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import ValidationError as DjangoValidationError
from django.urls import path, reverse
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_serializer
from rest_framework import mixins, permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import APIException, PermissionDenied
from rest_framework.exceptions import ValidationError as DRFValidationError
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from cem.filter_backends import refuse_unknown_parameters
from cem.pagination import StandardPagination
from cem.serializer_fields import FIRST_DAY, LAST_DAY, OUT_OF_RANGE, DateTimeField, ModelSerializer, in_range
from finance_projects.filters import BooleanFilter, DateTimeFilter, IdFilter
from finance_projects.models import Contact, FailureCategory, FinancingProject
from finance_projects.selectors import can_edit_project, contacts_for, portfolio_for

from . import selectors, services
from .models import Question, Survey, SurveyFollowUp, SurveyInvitation, SurveyResponse, Trigger


def _drf_error(error: DjangoValidationError) -> DRFValidationError:
    return DRFValidationError(
        error.message_dict if hasattr(error, "error_dict") else {"detail": error.messages}
    )


def _with_drf_keys(errors: dict[str, list[str]]) -> dict[str, list[str]]:
    return {(api_settings.NON_FIELD_ERRORS_KEY if k == NON_FIELD_ERRORS else k): v for k, v in errors.items()}


class IsStaffReadAdminWrite(permissions.BasePermission):
    """Any signed-in staff member reads; only administrators change surveys."""

    def has_permission(self, request, view):
        if not request.user.is_authenticated:
            return False
        return request.method in permissions.SAFE_METHODS or request.user.is_admin_role


# --- Surveys -------------------------------------------------------------------------------


class QuestionSerializer(ModelSerializer):
    class Meta:
        model = Question
        fields = ["id", "position", "type", "text_zh", "text_en", "choices", "required"]


class SurveySerializer(ModelSerializer):
    questions = QuestionSerializer(many=True, read_only=True)

    class Meta:
        model = Survey
        fields = ["id", "kind", "name_zh", "name_en", "intro_zh", "intro_en", "is_active", "questions"]


# The writing twins share the readers' component names: the schema then says `QuestionRequest`
# and `SurveyRequest` as before, while an answer always carries every question with its id.
@extend_schema_serializer(component_name="Question")
class QuestionWriteSerializer(QuestionSerializer):
    id = serializers.IntegerField(
        required=False,
        help_text=gettext_lazy("Leave out to add a question; give it to change that question of the survey."),
    )

    class Meta(QuestionSerializer.Meta):
        extra_kwargs = {
            "position": {"help_text": gettext_lazy("The order on the page; left out, its place in the list.")}
        }


@extend_schema_serializer(component_name="Survey")
class SurveyWriteSerializer(SurveySerializer):
    questions = QuestionWriteSerializer(
        many=True,
        required=False,
        help_text=gettext_lazy(
            "Sent, these become the survey's questions: those named by id are changed, those "
            "without one are added, and the others are deleted. Left out, the questions stay as they are."
        ),
    )


class Conflict(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "conflict"


class SurveyFilter(filters.FilterSet):
    is_active = BooleanFilter()

    class Meta:
        model = Survey
        fields = ["kind", "is_active"]


class SurveyViewSet(viewsets.ModelViewSet):
    serializer_class = SurveySerializer
    permission_classes = [IsStaffReadAdminWrite]
    queryset = Survey.objects.order_by("kind", "id")
    filterset_class = SurveyFilter
    search_fields = ["name_zh", "name_en"]
    ordering_fields = ["id", "kind", "name_zh", "name_en", "is_active"]

    def get_queryset(self):
        surveys = super().get_queryset()
        if self.action in ("list", "retrieve"):  # a write reads the questions again, locked
            surveys = surveys.prefetch_related("questions")
        return surveys

    def get_serializer_class(self):
        if self.action in ("create", "update", "partial_update"):
            return SurveyWriteSerializer
        return SurveySerializer

    @extend_schema(request=SurveyWriteSerializer, responses={201: SurveySerializer})
    def create(self, request, *args, **kwargs):
        return super().create(request, *args, **kwargs)

    @extend_schema(request=SurveyWriteSerializer, responses=SurveySerializer)
    def update(self, request, *args, **kwargs):
        return super().update(request, *args, **kwargs)

    @extend_schema(request=SurveyWriteSerializer, responses=SurveySerializer)
    def partial_update(self, request, *args, **kwargs):
        return super().partial_update(request, *args, **kwargs)

    def perform_create(self, serializer):
        serializer.instance = self._save(None, serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = self._save(serializer.instance, serializer.validated_data)

    def _save(self, survey: Survey | None, data: dict) -> Survey:
        fields = dict(data)
        questions = fields.pop("questions", None)
        try:
            return services.survey_save(survey=survey, fields=fields, questions=questions)
        except services.SurveyInvalid as error:
            body = _with_drf_keys(error.message_dict)
            if any(error.question_errors):  # as DRF keys its own errors of a list: by the item's index
                body["questions"] = {
                    index: _with_drf_keys(errors)
                    for index, errors in enumerate(error.question_errors)
                    if errors
                }
            raise DRFValidationError(body) from error

    @extend_schema(responses={204: None, 409: OpenApiTypes.OBJECT})
    def destroy(self, request, *args, **kwargs):
        return super().destroy(request, *args, **kwargs)

    def perform_destroy(self, instance):
        try:
            services.survey_delete(survey=instance)
        except services.SurveyInUse as error:  # its invitations keep it: 409, nothing deleted
            raise Conflict(" ".join(error.messages)) from error


# --- Invitations ---------------------------------------------------------------------------


class InvitationFilter(filters.FilterSet):
    # Plain ids: another team's row filters to nothing, exactly like a missing one.
    project = IdFilter(field_name="project_id")
    contact = IdFilter(field_name="contact_id")
    survey = IdFilter(field_name="survey_id")
    responded = BooleanFilter(field_name="responded_at", lookup_expr="isnull", exclude=True)
    sent = BooleanFilter(field_name="sent_at", lookup_expr="isnull", exclude=True)
    sent_after = DateTimeFilter(field_name="sent_at", lookup_expr="gte")
    sent_before = DateTimeFilter(field_name="sent_at", lookup_expr="lt")

    class Meta:
        model = SurveyInvitation
        fields = ["project", "contact", "survey", "trigger", "responded", "sent", "sent_after", "sent_before"]


class InvitationSerializer(ModelSerializer):
    project = serializers.PrimaryKeyRelatedField(queryset=FinancingProject.objects.none())
    contact = serializers.PrimaryKeyRelatedField(queryset=Contact.objects.none())
    # Any survey: sending one that is not active is refused by the service, which says so.
    survey = serializers.PrimaryKeyRelatedField(queryset=Survey.objects.all())
    reason = serializers.CharField(max_length=300, required=False, allow_blank=True)

    class Meta:
        model = SurveyInvitation
        fields = [
            "id",
            "project",
            "contact",
            "survey",
            "trigger",
            "reason",
            "reason_params",
            "stage",
            "created_at",
            "sent_at",
            "expires_at",
            "opened_at",
            "responded_at",
            "revoked_at",
            "reminders_sent",
            "last_reminder_at",
        ]
        read_only_fields = [name for name in fields if name not in ("project", "contact", "survey", "reason")]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None and request.user.is_authenticated:
            self.fields["project"].queryset = portfolio_for(request.user)
            self.fields["contact"].queryset = contacts_for(request.user)


class InvitationCreatedSerializer(InvitationSerializer):
    url = serializers.CharField(read_only=True, help_text=gettext_lazy("The personal link; shown only once."))

    class Meta(InvitationSerializer.Meta):
        fields = [*InvitationSerializer.Meta.fields, "url"]


class InvitationViewSet(
    mixins.CreateModelMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    serializer_class = InvitationSerializer
    filterset_class = InvitationFilter
    search_fields = ["contact__name", "contact__email", "project__code"]
    ordering_fields = ["created_at", "sent_at", "responded_at"]

    def get_queryset(self):
        return (
            selectors.invitations_for(self.request.user)
            .select_related("contact", "survey")
            .order_by("-created_at", "-id")
        )

    @extend_schema(responses={201: InvitationCreatedSerializer})
    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        if not can_edit_project(request.user, data["project"]):
            raise PermissionDenied(_("You may not send surveys about this project."))
        try:
            result = services.survey_send(
                project=data["project"],
                contact=data["contact"],
                survey=data["survey"],
                trigger=Trigger.MANUAL,
                reason=data.get("reason", ""),
                created_by=request.user,
                issue_link=True,
            )
        except DjangoValidationError as error:
            raise _drf_error(error) from error
        if result.skip is not None:
            raise DRFValidationError({"contact": [services.skip_message(result.skip)]})
        body = InvitationCreatedSerializer(result.invitation, context=self.get_serializer_context()).data
        body["url"] = result.url
        return Response(body, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={200: InvitationSerializer})
    @action(detail=True, methods=["post"])
    def revoke(self, request, pk=None):
        invitation = self.get_object()
        if not can_edit_project(request.user, invitation.project):
            raise PermissionDenied(_("You may not change surveys about this project."))
        invitation = services.invitation_revoke(invitation=invitation)
        return Response(InvitationSerializer(invitation, context=self.get_serializer_context()).data)


# --- Responses -----------------------------------------------------------------------------


class ResponseFilter(filters.FilterSet):
    project = IdFilter(field_name="invitation__project")
    contact = IdFilter(field_name="invitation__contact")
    survey = IdFilter(field_name="invitation__survey")
    # The project's RM, as the metrics count them (the responses page's RM filter).
    relationship_manager = IdFilter(field_name="invitation__project__relationship_manager")
    detractor = BooleanFilter(field_name="is_detractor")
    category = filters.ChoiceFilter(choices=FailureCategory.choices, method="filter_category")
    followed_up = BooleanFilter(field_name="followed_up_at", lookup_expr="isnull", exclude=True)
    needs_follow_up = BooleanFilter(
        method="filter_needs_follow_up",
        help_text=gettext_lazy(
            "Responses waiting for a follow-up (true): detractors' and those whose client asked to "
            "be contacted, with none recorded yet; or every other response (false)."
        ),
    )
    submitted_after = DateTimeFilter(field_name="submitted_at", lookup_expr="gte")
    submitted_before = DateTimeFilter(field_name="submitted_at", lookup_expr="lt")

    class Meta:
        model = SurveyResponse
        fields = [
            "project",
            "contact",
            "survey",
            "relationship_manager",
            "detractor",
            "category",
            "followed_up",
            "needs_follow_up",
        ]

    def filter_category(self, queryset, name, value):
        return selectors.tagged(queryset, value)

    def filter_needs_follow_up(self, queryset, name, value: bool):
        return selectors.needing_follow_up(queryset, value)


class ResponseSerializer(ModelSerializer):
    project = serializers.IntegerField(source="invitation.project_id", read_only=True)
    contact = serializers.IntegerField(source="invitation.contact_id", read_only=True)
    survey = serializers.IntegerField(source="invitation.survey_id", read_only=True)
    categories = serializers.ListField(
        child=serializers.ChoiceField(choices=FailureCategory.choices), allow_empty=True
    )

    class Meta:
        model = SurveyResponse
        fields = [
            "id",
            "invitation",
            "project",
            "contact",
            "survey",
            "submitted_at",
            "language",
            "nps",
            "csat",
            "ces",
            "comment",
            "answers",
            "is_detractor",
            "categories",
            "categories_edited_by",
            "categories_edited_at",
            "followed_up_at",
            "followed_up_by",
            "follow_up_outcome",
        ]
        read_only_fields = [name for name in fields if name != "categories"]


class FollowUpHistorySerializer(ModelSerializer):
    class Meta:
        model = SurveyFollowUp
        fields = ["id", "contacted_at", "by", "outcome", "recorded_at"]
        read_only_fields = fields


class ResponseDetailSerializer(ResponseSerializer):
    """A response with every follow-up recorded on it, newest contact first; its
    `followed_up_*` fields repeat the first of them."""

    follow_ups = FollowUpHistorySerializer(many=True, read_only=True)

    class Meta(ResponseSerializer.Meta):
        fields = [*ResponseSerializer.Meta.fields, "follow_ups"]
        read_only_fields = [name for name in fields if name != "categories"]


class FollowUpSerializer(serializers.Serializer):
    contacted_at = DateTimeField()
    outcome = serializers.CharField(max_length=4000)


class OpenedComplaintSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    reference = serializers.CharField()
    url = serializers.URLField(help_text=gettext_lazy("The complaint in the API."))
    page_url = serializers.URLField(help_text=gettext_lazy("The complaint's page in the browser."))


class ResponseViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.UpdateModelMixin, viewsets.GenericViewSet
):
    serializer_class = ResponseSerializer
    filterset_class = ResponseFilter
    ordering_fields = ["submitted_at", "nps", "csat", "ces"]
    search_fields = ["comment"]
    http_method_names = ["get", "patch", "post", "head", "options"]

    def get_queryset(self):
        responses = (
            selectors.responses_for(self.request.user)
            .select_related("invitation")
            .order_by("-submitted_at", "-id")
        )
        if self.action == "retrieve":
            responses = responses.prefetch_related("follow_ups")
        return responses

    def get_serializer_class(self):
        if self.action in ("retrieve", "follow_up"):
            return ResponseDetailSerializer
        return ResponseSerializer

    def _require_editor(self, response: SurveyResponse) -> None:
        if not can_edit_project(self.request.user, response.invitation.project):
            raise PermissionDenied(
                _("Only the project's relationship manager or their manager may change this.")
            )

    def partial_update(self, request, *args, **kwargs):
        response = self.get_object()
        self._require_editor(response)
        serializer = self.get_serializer(response, data=request.data, partial=True)
        # A body that is not an object (a number, a list, null) is the serializer's own 400.
        unknown = set(request.data) - {"categories"} if isinstance(request.data, Mapping) else set()
        if unknown:
            raise DRFValidationError({name: [_("This field cannot be changed.")] for name in sorted(unknown)})
        serializer.is_valid(raise_exception=True)
        if "categories" not in serializer.validated_data:  # nothing to change; not an edit either
            return Response(self.get_serializer(response).data)
        try:
            services.response_set_categories(
                response=response, categories=serializer.validated_data["categories"], by=request.user
            )
        except DjangoValidationError as error:
            raise _drf_error(error) from error
        return Response(self.get_serializer(response).data)

    def update(self, request, *args, **kwargs):
        if not kwargs.get("partial"):
            return Response(status=status.HTTP_405_METHOD_NOT_ALLOWED)
        return super().update(request, *args, **kwargs)

    @extend_schema(request=FollowUpSerializer, responses=ResponseDetailSerializer)
    @action(detail=True, methods=["post"], url_path="follow-up")
    def follow_up(self, request, pk=None):
        """Record a call back to the client; this resolves the detractor alert. Every follow-up
        is kept (`follow_ups`); the response's `followed_up_*` fields show the latest."""
        response = self.get_object()
        self._require_editor(response)
        serializer = FollowUpSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            response = services.response_record_follow_up(
                response=response,
                by=request.user,
                contacted_at=serializer.validated_data["contacted_at"],
                outcome=serializer.validated_data["outcome"],
            )
        except DjangoValidationError as error:
            raise _drf_error(error) from error
        return Response(self.get_serializer(response).data)

    @extend_schema(request=None, responses={200: OpenedComplaintSerializer, 201: OpenedComplaintSerializer})
    @action(detail=True, methods=["post"])
    def complaint(self, request, pk=None):
        """Open a complaint from this response, prefilled from it (201); the complaint already
        opened from it, by this action or because the client asked to be contacted, answers 200."""
        response = self.get_object()  # 404 outside the caller's scope
        if request.user.is_department_staff:  # the complaints app's rule for recording one
            raise PermissionDenied(_("Department staff may not record complaints."))
        # Complaints depend on feedback, never the reverse: the service is imported when called.
        from complaints.services import complaint_open_from_survey_response

        try:
            complaint, created = complaint_open_from_survey_response(response=response, by=request.user)
        except DjangoValidationError as error:
            raise _drf_error(error) from error
        body = {
            "id": complaint.pk,
            "reference": complaint.reference,
            "url": request.build_absolute_uri(reverse("complaint-detail", args=[complaint.pk])),
            "page_url": request.build_absolute_uri(reverse("complaints:detail", args=[complaint.pk])),
        }
        return Response(body, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


# --- Metrics -------------------------------------------------------------------------------


def _bound(value: str | None, field: str, *, zone, end: bool = False) -> datetime | None:
    """A period bound from a date or an ISO 8601 date-time; periods are [start, end).

    A bare date is that day in `zone` (the caller's): a start from its first moment, an end
    after its last, so that `end=2026-11-30` includes the 30th. A date-time is exact (read in
    `zone` when it carries no offset).
    """
    if not value:
        return None
    try:  # both raise ValueError on a well-formed impossible date such as 2024-02-30
        # The date first: parse_datetime also reads a bare date, as its midnight.
        day = parse_date(value)
        moment = parse_datetime(value) if day is None else None
    except ValueError:
        moment = day = None
    if day is not None:
        if not FIRST_DAY <= day <= LAST_DAY:  # a well-formed date, outside the years taken
            raise DRFValidationError({field: [OUT_OF_RANGE]})
        moment = datetime.combine(day + timedelta(days=1) if end else day, time.min)
    if moment is None:
        raise DRFValidationError({field: [_("Use a date (YYYY-MM-DD) or an ISO 8601 date-time.")]})
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment, zone)
    if not in_range(moment):
        raise DRFValidationError({field: [OUT_OF_RANGE]})
    return moment


PERIOD_BOUND_HELP = gettext_lazy(
    "A date (YYYY-MM-DD, that whole day in your time zone) or an ISO 8601 date-time; the period "
    "runs from start up to end."
)


class MetricsView(APIView):
    """NPS, CSAT, CES and response rate over the caller's portfolio, grouped as asked."""

    @extend_schema(
        parameters=[
            OpenApiParameter("group_by", OpenApiTypes.STR, enum=list(selectors.GROUPS)),
            OpenApiParameter("start", OpenApiTypes.STR, description=PERIOD_BOUND_HELP),
            OpenApiParameter("end", OpenApiTypes.STR, description=PERIOD_BOUND_HELP),
        ],
        responses=OpenApiTypes.OBJECT,
    )
    def get(self, request):
        # As every list: an unknown parameter is a 400 naming it, an empty one is left out.
        refuse_unknown_parameters(request, {"group_by", "start", "end"})
        group_by = request.query_params.get("group_by") or "none"
        if group_by not in selectors.GROUPS:
            raise DRFValidationError({"group_by": [_("Choose one of: %s.") % ", ".join(selectors.GROUPS)]})
        zone = request.user.zone
        start = _bound(request.query_params.get("start"), "start", zone=zone)
        end = _bound(request.query_params.get("end"), "end", zone=zone, end=True)
        if start and end and end <= start:  # bare dates: an end the day before the start
            raise DRFValidationError({"end": [_("The end is before the start.")]})
        rows = selectors.survey_metrics(
            projects=portfolio_for(request.user), group_by=group_by, start=start, end=end, tz=zone
        )
        paginator = StandardPagination()
        page = paginator.paginate_queryset(rows, request, view=self)
        response = paginator.get_paginated_response(page)
        response.data.update({"group_by": group_by, "start": start, "end": end})
        return response


ROUTES = [
    ("surveys", SurveyViewSet, "survey"),
    ("survey-invitations", InvitationViewSet, "survey-invitation"),
    ("survey-responses", ResponseViewSet, "survey-response"),
]
URLPATTERNS = [path("metrics/", MetricsView.as_view(), name="metrics")]
