"""Far-out dates typed in the browser are bad input, not a server error. Python's datetime ends at
the years 1 and 9999: `0001-01-01 00:00` typed in Asia/Shanghai is before the year 1 in UTC and
`9999-12-31 23:59` typed in New York after 9999, so SQLite's adapter raised OverflowError storing
or comparing them (a 500); `9999-12-31 15:00` typed in New York could be stored but then broke
every page showing it to a reader east of Greenwich. Each form refuses such a value, as any moment
outside 2000–2099, next to the field with the site's translated message, and nothing is saved."""

import pytest
from django.urls import reverse
from django.utils import translation

from complaints.models import Complaint, RecoveryAction
from finance_projects.models import Commitment, Touchpoint
from tests.factories import CommitmentFactory, ComplaintFactory, ensure_sla_policies

pytestmark = pytest.mark.django_db

INVALID_MOMENT = "Choose a date between 2000-01-01 and 2099-12-31."

YEAR_1_IN_SHANGHAI = pytest.param("Asia/Shanghai", "0001-01-01T00:00", id="year-1-in-shanghai")
YEAR_1_IN_NEW_YORK = pytest.param("America/New_York", "0001-01-01T00:00", id="year-1-unshowable-further-west")
LAST_MINUTE_IN_NEW_YORK = pytest.param("America/New_York", "9999-12-31T23:59", id="year-9999-in-new-york")
WITH_AN_OFFSET = pytest.param("Asia/Shanghai", "9999-12-31T23:00-10:00", id="year-9999-with-offset")
UNSHOWABLE_EAST = pytest.param("America/New_York", "9999-12-31T15:00", id="year-9999-unshowable-further-east")
A_TYPO_OF_1990 = pytest.param("Asia/Shanghai", "1990-06-01T10:00", id="a-typo-of-1990")


@pytest.fixture
def browser(client):
    """`browser(user, zone)`: the test client logged in as `user`, who lives in `zone`."""

    def login(user, zone, language="en"):
        user.time_zone = zone
        user.language = language
        user.save()
        client.force_login(user)
        return client

    return login


def post(client, url, data):
    return client.post(url, data, HTTP_ACCEPT_LANGUAGE="en")


# --- the project page ---------------------------------------------------------------------


@pytest.mark.parametrize(("zone", "moment"), [A_TYPO_OF_1990, YEAR_1_IN_SHANGHAI, YEAR_1_IN_NEW_YORK])
def test_a_far_out_touchpoint_time_is_refused_on_the_field_and_nothing_is_logged(
    browser, owner, project, zone, moment
):
    response = post(
        browser(owner, zone),
        reverse("dashboard:project-action", args=[project.pk, "touchpoint"]),
        {"channel": "call", "occurred_at": moment, "summary": "Update call.", "is_client_update": "on"},
    )

    assert response.status_code == 400
    assert response.context["side_forms"]["touchpoint"].errors == {"occurred_at": [INVALID_MOMENT]}
    assert not Touchpoint.objects.filter(project=project).exists()


@pytest.mark.parametrize(("zone", "moment"), [LAST_MINUTE_IN_NEW_YORK, WITH_AN_OFFSET, UNSHOWABLE_EAST])
def test_a_far_out_commitment_due_date_is_refused_on_the_field_and_nothing_is_recorded(
    browser, owner, project, zone, moment
):
    response = post(
        browser(owner, zone),
        reverse("dashboard:project-action", args=[project.pk, "commitment"]),
        {"title": "Term sheet", "kind": "document", "due_at": moment, "owner": owner.pk},
    )

    assert response.status_code == 400
    assert response.context["side_forms"]["commitment"].errors == {"due_at": [INVALID_MOMENT]}
    assert INVALID_MOMENT in response.content.decode()
    assert not Commitment.objects.filter(project=project).exists()


@pytest.mark.parametrize(("zone", "moment"), [LAST_MINUTE_IN_NEW_YORK, WITH_AN_OFFSET, UNSHOWABLE_EAST])
def test_a_far_out_renegotiated_date_is_refused_on_the_field_and_the_commitment_stays_open(
    browser, owner, project, zone, moment
):
    commitment = CommitmentFactory(project=project)
    due_at = commitment.due_at

    response = post(
        browser(owner, zone),
        reverse("dashboard:commitment-action", args=[commitment.pk, "renegotiate"]),
        {"new_due_at": moment, "reason": "The client asked for more time."},
    )

    assert response.status_code == 400
    assert response.context["renegotiate_form"].errors == {"new_due_at": [INVALID_MOMENT]}
    commitment.refresh_from_db()
    assert (commitment.status, commitment.due_at) == ("open", due_at)


def test_the_refusal_is_in_the_users_language(browser, owner, project):
    client = browser(owner, "America/New_York", language="zh-hans")

    response = client.post(
        reverse("dashboard:project-action", args=[project.pk, "commitment"]),
        {"title": "Term sheet", "kind": "document", "due_at": "9999-12-31T23:59", "owner": owner.pk},
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    )

    assert response.status_code == 400
    errors = response.context["side_forms"]["commitment"].errors
    assert errors == {"due_at": ["请选择 2000-01-01 至 2099-12-31 之间的日期。"]}


# --- complaints ---------------------------------------------------------------------------


@pytest.fixture
def _sla_policies(db):
    ensure_sla_policies()


@pytest.mark.usefixtures("_sla_policies")
@pytest.mark.parametrize(("zone", "moment"), [A_TYPO_OF_1990, YEAR_1_IN_SHANGHAI, YEAR_1_IN_NEW_YORK])
def test_a_far_out_complaint_receipt_is_refused_on_the_field_and_nothing_is_recorded(
    browser, owner, project, contact, zone, moment
):
    response = post(
        browser(owner, zone),
        reverse("complaints:create"),
        {
            "project": project.pk,
            "contact": contact.pk,
            "channel": "phone",
            "received_at": moment,
            "category": "late_information",
            "severity": "medium",
            "description": "Nobody told us the committee date.",
        },
    )

    assert response.status_code == 400
    assert response.context["form"].errors == {"received_at": [INVALID_MOMENT]}
    assert not Complaint.objects.exists()


@pytest.mark.usefixtures("_sla_policies")
@pytest.mark.parametrize(
    ("zone", "moment"), [YEAR_1_IN_SHANGHAI, LAST_MINUTE_IN_NEW_YORK, WITH_AN_OFFSET, UNSHOWABLE_EAST]
)
def test_a_far_out_recovery_action_due_date_is_refused_on_the_field_and_nothing_is_planned(
    browser, owner, project, contact, zone, moment
):
    complaint = ComplaintFactory(project=project, contact=contact)

    response = post(
        browser(owner, zone),
        reverse("complaints:action", args=[complaint.pk, "add-action"]),
        {"kind": "apology", "description": "Call the CFO.", "owner": owner.pk, "due_at": moment},
    )

    assert response.status_code == 400
    assert response.context["forms"]["add_action"].errors == {"due_at": [INVALID_MOMENT]}
    assert not RecoveryAction.objects.exists()


@pytest.mark.parametrize(
    ("zone", "query", "field"),
    [
        pytest.param("Asia/Shanghai", {"start": "0001-01-01"}, "start", id="from-year-1-in-shanghai"),
        pytest.param("America/New_York", {"end": "9999-12-31"}, "end", id="until-year-9999-in-new-york"),
    ],
)
@pytest.mark.parametrize("page", ["complaints:reports", "complaints:export"])
def test_a_far_out_report_period_is_refused_like_any_bad_date_and_the_report_still_answers(
    browser, owner, zone, query, field, page
):
    client = browser(owner, zone)
    url = reverse(page, args=["csv"]) if page == "complaints:export" else reverse(page)

    response = client.get(url, query, HTTP_ACCEPT_LANGUAGE="en")

    # Both say what is wrong with the period; the export exports nothing (not the whole history).
    assert response.status_code == 400
    assert response.context["form"].errors == {field: [INVALID_MOMENT]}
    assert "Content-Disposition" not in response


def test_the_follow_up_and_resolution_times_take_the_same_years():
    from complaints.forms import ResolveForm
    from dashboard.forms import FollowUpForm

    with translation.override("en"):
        follow_up = FollowUpForm({"contacted_at": "1990-06-01T10:00", "outcome": "Called the CFO."})
        resolution = ResolveForm({"response_sent_at": "1990-06-01T10:00", "response_channel": "email"})
        assert follow_up.errors["contacted_at"] == [INVALID_MOMENT]
        assert resolution.errors["response_sent_at"] == [INVALID_MOMENT]
