"""The follow-ups still to make are the detractors and the clients who asked to be contacted,
nobody has called back yet: the responses page's filter and the API's `needs_follow_up` list
them, other promoters and passives never; `followed_up` keeps its literal meaning (a follow-up
is recorded or not)."""

from datetime import timedelta

import pytest
import yaml
from django.core.management import call_command
from django.utils import timezone

from feedback.services import response_record_follow_up
from tests.factories import AlertFactory, InvitationFactory, SurveyResponseFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/survey-responses/"


def answered(project, contact, *, nps):
    return SurveyResponseFactory(
        invitation=InvitationFactory(project=project, contact=contact),
        nps=nps,
        is_detractor=nps <= 6,
        submitted_at=timezone.now() - timedelta(hours=2),
    )


@pytest.fixture
def responses(project, contact, owner):
    waiting = answered(project, contact, nps=2)
    called = answered(project, contact, nps=4)
    response_record_follow_up(response=called, by=owner, contacted_at=timezone.now(), outcome="Called back.")
    promoter = answered(project, contact, nps=10)
    passive = answered(project, contact, nps=7)
    return {"waiting": waiting, "called": called, "promoter": promoter, "passive": passive}


def ids(api, params) -> set[int]:
    answer = api.get(URL, {"page_size": 100, **params})
    assert answer.status_code == 200, answer.content
    return {row["id"] for row in answer.data["results"]}


def test_needs_follow_up_lists_the_detractors_not_yet_called_back_and_nothing_else(api_as, owner, responses):
    api = api_as(owner)

    assert ids(api, {"needs_follow_up": "true"}) == {responses["waiting"].pk}
    assert ids(api, {"needs_follow_up": "false"}) == {
        responses[name].pk for name in ("called", "promoter", "passive")
    }


def test_a_passive_who_asked_to_be_contacted_needs_a_follow_up_until_one_is_recorded(
    api_as, owner, project, contact
):
    asked = answered(project, contact, nps=8)
    AlertFactory(project=project, kind="contact_request", subject_type="survey_response", subject_id=asked.pk)
    api = api_as(owner)
    assert ids(api, {"needs_follow_up": "true"}) == {asked.pk}

    response_record_follow_up(response=asked, by=owner, contacted_at=timezone.now(), outcome="Called.")

    assert ids(api, {"needs_follow_up": "true"}) == set()
    assert ids(api, {"needs_follow_up": "false"}) == {asked.pk}


def test_followed_up_stays_literal(api_as, owner, responses):
    api = api_as(owner)

    assert ids(api, {"followed_up": "false"}) == {
        responses[name].pk for name in ("waiting", "promoter", "passive")
    }
    assert ids(api, {"followed_up": "true"}) == {responses["called"].pk}


def test_needs_follow_up_that_is_not_true_or_false_is_refused_naming_it(api_as, owner):
    refused = api_as(owner).get(URL, {"needs_follow_up": "maybe"})

    assert refused.status_code == 400
    assert set(refused.data) == {"needs_follow_up"}


def test_the_schema_documents_needs_follow_up_as_a_boolean(tmp_path):
    path = tmp_path / "schema.yml"
    call_command("spectacular", "--file", str(path))
    schema = yaml.safe_load(path.read_text())

    parameters = {p["name"]: p for p in schema["paths"]["/api/v1/survey-responses/"]["get"]["parameters"]}

    assert parameters["needs_follow_up"]["schema"]["type"] == "boolean"
    assert parameters["needs_follow_up"]["description"]
