"""The survey API: scoped to the caller's portfolio, the link shown once, the RM's category edit."""

from datetime import UTC, datetime

import pytest
import time_machine
from django.utils import timezone

from finance_projects.models import Alert
from tests.factories import InvitationFactory, SurveyResponseFactory, shipped_survey
from tests.feedback.conftest import submit_and_process

pytestmark = pytest.mark.django_db


@pytest.fixture
def response(linked):
    invitation, _token = linked
    return submit_and_process(invitation, nps="3", text="The process was too complicated.")


def test_a_manual_send_returns_the_link_once(api_as, owner, project, contact, relationship_survey, client):
    api = api_as(owner)
    created = api.post(
        "/api/v1/survey-invitations/",
        {
            "project": project.pk,
            "contact": contact.pk,
            "survey": relationship_survey.pk,
            "reason": "Quarterly check",
        },
    )
    assert created.status_code == 201, created.content
    assert created.data["url"].startswith("http")
    assert client.get(created.data["url"].split("8000", 1)[1]).status_code == 200
    detail = api.get(f"/api/v1/survey-invitations/{created.data['id']}/")
    listing = api.get("/api/v1/survey-invitations/")
    assert "url" not in detail.data
    assert "url" not in listing.data["results"][0]


def test_a_capped_contact_is_refused_with_the_reason_and_when_they_may_be_surveyed_again(
    api_as, owner, project, contact, relationship_survey
):
    owner.time_zone = "Asia/Shanghai"
    owner.save()
    # 2026-03-01 18:00 UTC is 02:00 on 2 March in Shanghai; thirty days on is 1 April, 02:00.
    InvitationFactory(project=project, contact=contact, created_at=datetime(2026, 3, 1, 18, tzinfo=UTC))
    with time_machine.travel(datetime(2026, 3, 10, tzinfo=UTC)):
        refused = api_as(owner).post(
            "/api/v1/survey-invitations/",
            {"project": project.pk, "contact": contact.pk, "survey": relationship_survey.pk},
            HTTP_ACCEPT_LANGUAGE="en",
        )
    assert refused.status_code == 400
    assert refused.json() == {
        "contact": ["Contact was surveyed recently: they can be surveyed again from 2026-04-01 02:00."]
    }


def test_an_answered_invitation_cannot_be_revoked(api_as, owner, response):
    refused = api_as(owner).post(
        f"/api/v1/survey-invitations/{response.invitation_id}/revoke/", HTTP_ACCEPT_LANGUAGE="en"
    )

    assert refused.status_code == 400
    assert refused.json() == {
        "non_field_errors": ["This survey has already been answered: there is nothing to revoke."]
    }
    response.invitation.refresh_from_db()
    assert response.invitation.revoked_at is None


def test_an_outsider_cannot_send_about_another_teams_project(
    api_as, outsider, project, contact, relationship_survey
):
    refused = api_as(outsider).post(
        "/api/v1/survey-invitations/",
        {"project": project.pk, "contact": contact.pk, "survey": relationship_survey.pk},
    )
    assert refused.status_code == 400
    assert {"project", "contact"} <= set(refused.data)


def test_another_teams_invitation_and_response_answer_404(api_as, outsider, response):
    api = api_as(outsider)
    assert api.get(f"/api/v1/survey-invitations/{response.invitation_id}/").status_code == 404
    assert api.get(f"/api/v1/survey-responses/{response.pk}/").status_code == 404
    assert api.get("/api/v1/survey-responses/").data["count"] == 0


def test_login_is_required(api, response):
    assert api.get("/api/v1/survey-responses/").status_code in (401, 403)
    assert api.get("/api/v1/metrics/").status_code in (401, 403)


def test_responses_filter_by_category_detractor_and_project(api_as, owner, response, project):
    other = SurveyResponseFactory(invitation=InvitationFactory(project=project), nps=10, categories=[])
    api = api_as(owner)
    by_category = api.get("/api/v1/survey-responses/?category=complex_process")
    assert [row["id"] for row in by_category.data["results"]] == [response.pk]
    detractors = api.get("/api/v1/survey-responses/?detractor=true")
    assert [row["id"] for row in detractors.data["results"]] == [response.pk]
    assert api.get(f"/api/v1/survey-responses/?project={project.pk}").data["count"] == 2
    assert other.pk in [
        row["id"] for row in api.get("/api/v1/survey-responses/?detractor=false").data["results"]
    ]


def test_responses_filter_by_the_projects_relationship_manager(api_as, manager, owner, teammate, response):
    from tests.factories import ProjectFactory

    teammates = SurveyResponseFactory(
        invitation=InvitationFactory(project=ProjectFactory(client=response.invitation.project.client)),
        nps=9,
    )
    teammates.invitation.project.relationship_manager = teammate
    teammates.invitation.project.save(update_fields=["relationship_manager"])
    api = api_as(manager)

    def listed(rm):
        rows = api.get(f"/api/v1/survey-responses/?relationship_manager={rm.pk}").data["results"]
        return [row["id"] for row in rows]

    assert listed(owner) == [response.pk]
    assert listed(teammate) == [teammates.pk]
    assert api.get("/api/v1/survey-responses/?relationship_manager=x").status_code == 400


def test_the_rm_corrects_the_categories(api_as, owner, response):
    edited = api_as(owner).patch(
        f"/api/v1/survey-responses/{response.pk}/", {"categories": ["broken_commitment"]}, format="json"
    )
    assert edited.status_code == 200, edited.content
    assert edited.data["categories"] == ["broken_commitment"]
    assert edited.data["categories_edited_by"] == owner.pk


def test_an_empty_patch_keeps_the_categories_and_is_not_recorded_as_an_edit(api_as, owner, response):
    unchanged = api_as(owner).patch(f"/api/v1/survey-responses/{response.pk}/", {}, format="json")

    assert unchanged.status_code == 200
    assert unchanged.data["categories"] == ["complex_process"]
    response.refresh_from_db()
    assert (response.categories, response.categories_edited_at) == (["complex_process"], None)


def test_a_bad_category_or_another_field_is_refused(api_as, owner, response):
    api = api_as(owner)
    bad = api.patch(f"/api/v1/survey-responses/{response.pk}/", {"categories": ["weather"]}, format="json")
    assert bad.status_code == 400 and "categories" in bad.data
    other = api.patch(f"/api/v1/survey-responses/{response.pk}/", {"nps": 10}, format="json")
    assert other.status_code == 400 and "nps" in other.data
    response.refresh_from_db()
    assert (response.nps, response.categories) == (3, ["complex_process"])


def test_department_staff_read_but_may_not_edit(api_as, department_user, response):
    from tests.factories import CommitmentFactory

    CommitmentFactory(project=response.invitation.project, owner=department_user)
    api = api_as(department_user)
    assert api.get(f"/api/v1/survey-responses/{response.pk}/").status_code == 200
    refused = api.patch(f"/api/v1/survey-responses/{response.pk}/", {"categories": []}, format="json")
    assert refused.status_code == 403


def test_the_follow_up_endpoint_closes_the_detractor_alert(api_as, owner, response):
    done = api_as(owner).post(
        f"/api/v1/survey-responses/{response.pk}/follow-up/",
        {"contacted_at": timezone.now().isoformat(), "outcome": "Met the CFO; simplified the checklist."},
    )
    assert done.status_code == 200, done.content
    assert Alert.objects.get().resolved_at is not None


def test_surveys_are_readable_by_staff_and_writable_by_admins_only(api_as, owner, admin_user):
    shipped = [shipped_survey(kind).pk for kind in ("relationship", "milestone", "recovery")]
    listed = [row["id"] for row in api_as(owner).get("/api/v1/surveys/").data["results"]]
    assert set(shipped) <= set(listed)
    assert (
        api_as(owner).post("/api/v1/surveys/", {"kind": "custom", "name_zh": "x", "name_en": "x"}).status_code
        == 403
    )
    created = api_as(admin_user).post(
        "/api/v1/surveys/", {"kind": "custom", "name_zh": "年度", "name_en": "Annual"}
    )
    assert created.status_code == 201


def test_metrics_are_scoped_to_the_callers_portfolio(api_as, owner, outsider, response):
    mine = api_as(owner).get("/api/v1/metrics/?group_by=rm")
    assert mine.status_code == 200
    assert mine.data["results"][0]["nps"]["n"] == 1
    assert api_as(outsider).get("/api/v1/metrics/").data["results"] == []


def test_metrics_refuse_an_unknown_grouping_or_date(api_as, owner):
    api = api_as(owner)
    assert "group_by" in api.get("/api/v1/metrics/?group_by=planet").data
    assert "start" in api.get("/api/v1/metrics/?start=yesterday").data


def test_the_milestone_survey_can_be_sent_by_hand(api_as, owner, project, contact):
    created = api_as(owner).post(
        "/api/v1/survey-invitations/",
        {"project": project.pk, "contact": contact.pk, "survey": shipped_survey("milestone").pk},
    )
    assert created.status_code == 201
    assert created.data["trigger"] == "manual"


@pytest.mark.parametrize("param", ["start=2024-02-30", "end=2024-13-01", "start=2024-01-01T25:00"])
def test_metrics_refuse_an_impossible_calendar_date(api_as, owner, param):
    response = api_as(owner).get(f"/api/v1/metrics/?{param}")
    assert response.status_code == 400
    assert param.split("=")[0] in response.data


def test_sorting_responses_by_a_score_lists_those_without_it_last_either_way(api_as, owner, project):
    for nps in (None, 3, None, 9):
        SurveyResponseFactory(invitation=InvitationFactory(project=project), nps=nps, csat=4)
    api = api_as(owner)

    descending = api.get("/api/v1/survey-responses/?ordering=-nps").data["results"]
    ascending = api.get("/api/v1/survey-responses/?ordering=nps").data["results"]

    assert [row["nps"] for row in descending] == [9, 3, None, None]
    assert [row["nps"] for row in ascending] == [3, 9, None, None]
