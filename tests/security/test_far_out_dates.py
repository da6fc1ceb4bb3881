"""Far-out dates are bad input, not a server error: a moment outside 2000–2099 answers 400 naming
the field, and nothing is saved. That covers a typo that looks like a date (1990, which raised
alerts and e-mailed clients; 1900, which Shanghai reads as local mean time, +08:05:43), and a
moment that UTC cannot hold (year 1 read in Shanghai, 9999-12-31 late in a zone west of
Greenwich), where SQLite (the default database) raised OverflowError."""

import pytest
from rest_framework import serializers

import complaints.api
import feedback.api
import finance_projects.api.alerts
import finance_projects.api.core
import finance_projects.api.imports
import finance_projects.serializers
from cem.serializer_fields import DateTimeField
from complaints import services as complaint_services
from complaints.models import Complaint, RecoveryAction
from feedback.models import SurveyResponse
from finance_projects.models import Commitment, Touchpoint
from tests.factories import AlertFactory, CommitmentFactory, ComplaintFactory, SurveyResponseFactory

pytestmark = pytest.mark.django_db

FAR_OUT = [
    pytest.param("1990-06-01T10:00:00+08:00", id="a-typo-of-1990"),
    pytest.param("1900-01-01T00:00:00", id="1900-local-mean-time-in-shanghai"),
    pytest.param("2150-01-01T00:00:00Z", id="after-2099"),
    pytest.param("0001-01-01T00:00:00", id="year-1-read-in-shanghai"),
    pytest.param("9999-12-31T23:00:00-10:00", id="year-9999-with-offset"),
    pytest.param("0001-01-01T00:00:00Z", id="year-1-utc-unshowable-west-of-greenwich"),
]


def assert_refused(response, field):
    assert response.status_code == 400, response.content
    assert field in response.json()


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"start": "0001-01-01"}, "start"),
        ({"start": "0001-01-01T00:00:00"}, "start"),
        ({"end": "9999-12-31T23:00:00-10:00"}, "end"),
        ({"end": "9999-12-31"}, "end"),
        ({"start": "1990-01-01"}, "start"),
    ],
)
def test_a_metrics_period_beyond_what_utc_holds_is_a_400_naming_the_bound(api_as, owner, query, field):
    response = api_as(owner).get("/api/v1/metrics/", query, HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 400, response.content
    assert response.json() == {field: ["Choose a date between 2000-01-01 and 2099-12-31."]}


@pytest.mark.parametrize("moment", FAR_OUT)
def test_a_far_out_follow_up_time_is_refused_and_the_response_stays_open(api_as, owner, project, moment):
    response = SurveyResponseFactory(invitation__project=project, nps=3)

    answer = api_as(owner).post(
        f"/api/v1/survey-responses/{response.pk}/follow-up/",
        {"contacted_at": moment, "outcome": "Called the CFO."},
        format="json",
    )

    assert_refused(answer, "contacted_at")
    assert SurveyResponse.objects.get(pk=response.pk).followed_up_at is None


@pytest.mark.parametrize("moment", FAR_OUT)
def test_a_far_out_touchpoint_time_is_refused_and_nothing_is_logged(api_as, owner, project, moment):
    answer = api_as(owner).post(
        "/api/v1/touchpoints/",
        {"project": project.pk, "channel": "call", "occurred_at": moment, "summary": "Update call."},
        format="json",
    )

    assert_refused(answer, "occurred_at")
    assert not Touchpoint.objects.exists()


@pytest.mark.parametrize("moment", FAR_OUT)
def test_a_far_out_commitment_due_date_is_refused_and_nothing_is_recorded(api_as, owner, project, moment):
    answer = api_as(owner).post(
        "/api/v1/commitments/",
        {"project": project.pk, "title": "Term sheet", "due_at": moment},
        format="json",
    )

    assert_refused(answer, "due_at")
    assert not Commitment.objects.exists()


@pytest.mark.parametrize("moment", FAR_OUT)
def test_a_far_out_renegotiated_date_is_refused_and_the_commitment_stays_open(api_as, owner, project, moment):
    commitment = CommitmentFactory(project=project)

    answer = api_as(owner).post(
        f"/api/v1/commitments/{commitment.pk}/renegotiate/",
        {"new_due_at": moment, "reason": "Client asked for more time"},
        format="json",
    )

    assert_refused(answer, "new_due_at")
    assert list(Commitment.objects.values_list("pk", "status")) == [(commitment.pk, "open")]


@pytest.mark.parametrize("moment", FAR_OUT)
def test_a_far_out_snooze_is_refused_and_the_alert_stays_awake(api_as, owner, project, moment):
    alert = AlertFactory(project=project)

    answer = api_as(owner).post(f"/api/v1/alerts/{alert.pk}/snooze/", {"until": moment}, format="json")

    assert_refused(answer, "until")
    alert.refresh_from_db()
    assert alert.snoozed_until is None


@pytest.mark.parametrize("moment", FAR_OUT)
def test_a_far_out_complaint_receipt_is_refused_and_nothing_is_recorded(
    api_as, owner, project, contact, moment
):
    answer = api_as(owner).post(
        "/api/v1/complaints/",
        {
            "project": project.pk,
            "contact": contact.pk,
            "channel": "phone",
            "category": "service_attitude",
            "description": "Nobody called back.",
            "received_at": moment,
        },
        format="json",
    )

    assert_refused(answer, "received_at")
    assert not Complaint.objects.exists()


@pytest.mark.parametrize("moment", FAR_OUT)
def test_a_far_out_response_time_is_refused_and_the_complaint_stays_unresolved(
    api_as, manager, project, contact, moment
):
    complaint = ComplaintFactory(project=project, contact=contact)
    complaint_services.complaint_acknowledge(complaint=complaint, by=manager)

    answer = api_as(manager).post(
        f"/api/v1/complaints/{complaint.pk}/resolve/",
        {"response_text": "Sorry; fixed.", "response_channel": "email", "response_sent_at": moment},
        format="json",
    )

    assert_refused(answer, "response_sent_at")
    complaint.refresh_from_db()
    assert (complaint.status, complaint.response_sent_at) == ("acknowledged", None)


@pytest.mark.parametrize("moment", FAR_OUT)
def test_a_far_out_recovery_action_due_date_is_refused_and_nothing_is_added(
    api_as, owner, project, contact, moment
):
    complaint = ComplaintFactory(project=project, contact=contact)

    answer = api_as(owner).post(
        "/api/v1/complaint-actions/",
        {
            "complaint": complaint.pk,
            "kind": "apology",
            "description": "Call the CFO.",
            "owner": owner.pk,
            "due_at": moment,
        },
        format="json",
    )

    assert_refused(answer, "due_at")
    assert not RecoveryAction.objects.exists()


def test_the_refusal_is_translated(api_as, owner, project):
    alert = AlertFactory(project=project)

    answer = api_as(owner).post(
        f"/api/v1/alerts/{alert.pk}/snooze/",
        {"until": "0001-01-01T00:00:00"},
        format="json",
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    )

    assert answer.json() == {"until": ["请选择 2000-01-01 至 2099-12-31 之间的日期。"]}


API_MODULES = [
    feedback.api,
    complaints.api,
    finance_projects.serializers,
    finance_projects.api.alerts,
    finance_projects.api.core,
    finance_projects.api.imports,
]


def test_every_writable_date_time_in_the_api_is_the_guarded_field():
    serializer_classes = [
        value
        for module in API_MODULES
        for value in vars(module).values()
        if isinstance(value, type)
        and issubclass(value, serializers.Serializer)
        and value.__module__ == module.__name__
    ]
    bare = [
        f"{serializer_class.__module__}.{serializer_class.__name__}.{name}"
        for serializer_class in serializer_classes
        for name, field in serializer_class(context={}).fields.items()
        if isinstance(field, serializers.DateTimeField)
        and not field.read_only
        and not isinstance(field, DateTimeField)
    ]

    assert len(serializer_classes) > 20
    assert bare == []


@pytest.mark.parametrize(
    ("moment", "taken"),
    [("1999-12-31T23:59:00+08:00", False), ("2000-01-01T00:00:00+08:00", True)],  # in Shanghai
)
def test_the_first_day_is_read_in_the_readers_zone(api_as, owner, project, moment, taken):
    answer = api_as(owner).post(
        "/api/v1/touchpoints/",
        {"project": project.pk, "channel": "call", "occurred_at": moment, "summary": "Update call."},
        format="json",
    )

    assert (answer.status_code == 201) is taken, answer.content


@pytest.mark.parametrize(
    ("moment", "taken"),
    [("2099-12-31T23:59:00+08:00", True), ("2100-01-01T00:00:00+08:00", False)],  # in Shanghai
)
def test_the_last_day_is_read_in_the_readers_zone(api_as, owner, project, moment, taken):
    answer = api_as(owner).post(
        "/api/v1/commitments/",
        {"project": project.pk, "title": "Term sheet", "due_at": moment},
        format="json",
    )

    assert (answer.status_code == 201) is taken, answer.content
