"""Every follow-up on a survey response is kept: a second call back joins the history instead of
overwriting the first, the response's own follow-up fields show the latest, and the project page
and the API's response detail list them all, newest contact first."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from feedback import services
from feedback.models import SurveyFollowUp
from tests.feedback.conftest import submit_and_process

pytestmark = pytest.mark.django_db


@pytest.fixture
def detractor(linked):
    invitation, _token = linked
    response = submit_and_process(invitation, nps="3", text="Nobody told us about the delay.")
    response.submitted_at = timezone.now() - timedelta(days=2)
    response.save(update_fields=["submitted_at"])
    return response


def record(response, by, *, hours_ago, outcome):
    return services.response_record_follow_up(
        response=response, by=by, contacted_at=timezone.now() - timedelta(hours=hours_ago), outcome=outcome
    )


def history(response):
    return list(
        SurveyFollowUp.objects.filter(response=response)
        .values_list("by", "outcome")
        .order_by("-contacted_at")
    )


# --- The service ----------------------------------------------------------------------------


def test_a_second_follow_up_is_kept_beside_the_first_and_the_response_shows_the_latest(
    detractor, owner, manager
):
    record(detractor, owner, hours_ago=30, outcome="Called the CFO; the memo goes out Friday.")
    latest = record(detractor, manager, hours_ago=2, outcome="Memo sent; the client is satisfied.")

    assert history(detractor) == [
        (manager.pk, "Memo sent; the client is satisfied."),
        (owner.pk, "Called the CFO; the memo goes out Friday."),
    ]
    detractor.refresh_from_db()
    assert (detractor.followed_up_by, detractor.follow_up_outcome) == (
        manager,
        "Memo sent; the client is satisfied.",
    )
    assert detractor.followed_up_at == latest.followed_up_at


def test_a_follow_up_about_an_earlier_call_joins_the_history_without_replacing_the_latest(
    detractor, owner, manager
):
    record(detractor, owner, hours_ago=2, outcome="Second call: all settled.")
    record(detractor, manager, hours_ago=30, outcome="First call, written down late.")

    assert history(detractor) == [
        (owner.pk, "Second call: all settled."),
        (manager.pk, "First call, written down late."),
    ]
    detractor.refresh_from_db()
    assert (detractor.followed_up_by, detractor.follow_up_outcome) == (owner, "Second call: all settled.")


def test_the_same_follow_up_sent_twice_in_a_row_is_recorded_once(detractor, owner):
    contacted_at = timezone.now() - timedelta(hours=1)
    for _ in range(2):  # a double click, a retried request
        services.response_record_follow_up(
            response=detractor, by=owner, contacted_at=contacted_at, outcome="Called back."
        )

    assert history(detractor) == [(owner.pk, "Called back.")]


# --- The project page -----------------------------------------------------------------------


def row_of(body: str, response) -> str:
    found = re.search(rf'<li class="tl-survey[^"]*" id="response-{response.pk}">(.*?)</li>', body, re.S)
    assert found is not None
    return found.group(1)


def test_the_project_page_shows_every_follow_up_newest_first_with_who_and_when_in_the_readers_zone(
    client, settings, detractor, owner, manager, project
):
    settings.LANGUAGE_CODE = "en"
    owner.time_zone = "America/New_York"
    owner.save()
    first = timezone.now() - timedelta(hours=30)
    second = timezone.now() - timedelta(hours=2)
    services.response_record_follow_up(
        response=detractor, by=owner, contacted_at=first, outcome="First call."
    )
    services.response_record_follow_up(
        response=detractor, by=manager, contacted_at=second, outcome="Second call."
    )
    client.force_login(owner)

    body = client.get(reverse("dashboard:project", args=[project.pk]), HTTP_ACCEPT_LANGUAGE="en")

    row = row_of(body.content.decode(), detractor)

    def shown(when, who, outcome):
        local = timezone.localtime(when, owner.zone).strftime("%Y-%m-%d %H:%M")
        return f"<strong>Followed up by {who}, {local}:</strong> {outcome}"

    newest, oldest = shown(second, manager, "Second call."), shown(first, owner, "First call.")
    assert newest in row and oldest in row
    assert row.index(newest) < row.index(oldest)
    assert "Record another follow-up" in row


def test_recording_another_follow_up_from_the_page_keeps_the_first(client, detractor, owner, project):
    record(detractor, owner, hours_ago=30, outcome="First call.")
    client.force_login(owner)

    saved = client.post(
        reverse("dashboard:project-action", args=[project.pk, "follow_up"]),
        {
            "response": detractor.pk,
            "contacted_at": timezone.localtime(timezone.now(), owner.zone).strftime("%Y-%m-%dT%H:%M"),
            "outcome": "Second call.",
        },
    )

    assert saved.status_code == 302
    assert history(detractor) == [(owner.pk, "Second call."), (owner.pk, "First call.")]


# --- The API --------------------------------------------------------------------------------


def test_the_api_response_detail_lists_every_follow_up_newest_first(api_as, detractor, owner):
    api = api_as(owner)
    url = f"/api/v1/survey-responses/{detractor.pk}/"
    first = timezone.now() - timedelta(hours=30)
    second = timezone.now() - timedelta(hours=2)

    api.post(f"{url}follow-up/", {"contacted_at": first.isoformat(), "outcome": "First call."})
    recorded = api.post(f"{url}follow-up/", {"contacted_at": second.isoformat(), "outcome": "Second call."})
    detail = api.get(url)

    assert recorded.status_code == detail.status_code == 200
    assert recorded.data["follow_ups"] == detail.data["follow_ups"]
    follow_ups = detail.data["follow_ups"]
    assert [(row["outcome"], row["by"]) for row in follow_ups] == [
        ("Second call.", owner.pk),
        ("First call.", owner.pk),
    ]
    assert [row["contacted_at"] for row in follow_ups] == [
        timezone.localtime(second).isoformat(),
        timezone.localtime(first).isoformat(),
    ]
    assert detail.data["follow_up_outcome"] == "Second call."


def test_the_follow_up_history_cannot_be_written_through_the_response(api_as, detractor, owner):
    record(detractor, owner, hours_ago=2, outcome="Called back.")

    refused = api_as(owner).patch(
        f"/api/v1/survey-responses/{detractor.pk}/", {"follow_ups": []}, format="json"
    )

    assert refused.status_code == 400 and "follow_ups" in refused.data
    assert history(detractor) == [(owner.pk, "Called back.")]


def test_the_admin_shows_every_follow_up_read_only(client, admin_user, detractor, owner):
    record(detractor, owner, hours_ago=30, outcome="First call.")
    record(detractor, owner, hours_ago=2, outcome="Second <b>call</b>.")
    client.force_login(admin_user)

    page = client.get(f"/admin/feedback/surveyresponse/{detractor.pk}/change/").content.decode()

    assert page.index("Second &lt;b&gt;call&lt;/b&gt;.") < page.index("First call.")
