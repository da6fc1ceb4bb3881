"""The survey API keeps the list conventions: strict filters and sorting, paged metrics, a schema
that says what each endpoint takes."""

import pytest
import yaml
from django.core.management import call_command

from cem.filter_backends import StrictOrderingFilter
from feedback.api import SurveySerializer
from feedback.models import Survey
from tests.factories import InvitationFactory, QuestionFactory, SurveyFactory

pytestmark = pytest.mark.django_db


def ids(response):
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.data["results"]]


def test_surveys_cannot_be_sorted_by_their_questions_and_sort_once_each_by_their_own_fields(api_as, owner):
    surveys = [SurveyFactory(kind="custom", name_en=name) for name in ("B", "A")]
    for survey in surveys:
        QuestionFactory.create_batch(2, survey=survey)
    api = api_as(owner)

    refused = api.get("/api/v1/surveys/", {"ordering": "questions"})

    assert refused.status_code == 400
    assert "ordering" in refused.data
    by_name = ids(api.get("/api/v1/surveys/", {"kind": "custom", "ordering": "name_en"}))
    assert by_name == [surveys[1].pk, surveys[0].pk]


def test_a_survey_list_filter_that_is_not_true_or_false_is_refused(api_as, owner):
    SurveyFactory(kind="custom", is_active=False)
    api = api_as(owner)

    assert api.get("/api/v1/surveys/", {"is_active": "banana"}).status_code == 400
    assert all(row["is_active"] for row in api.get("/api/v1/surveys/", {"is_active": "true"}).data["results"])


def test_surveys_and_invitations_can_be_searched_as_the_schema_says(api_as, owner, project, contact):
    wanted = SurveyFactory(kind="custom", name_en="Annual review")
    SurveyFactory(kind="custom", name_en="Closing")
    invitation = InvitationFactory(project=project, contact=contact)
    api = api_as(owner)

    assert ids(api.get("/api/v1/surveys/", {"search": "annual"})) == [wanted.pk]
    assert ids(api.get("/api/v1/survey-invitations/", {"search": contact.name})) == [invitation.pk]
    assert ids(api.get("/api/v1/survey-invitations/", {"search": "nobody-by-this-name"})) == []


def test_sending_a_survey_that_is_not_active_says_so(api_as, owner, project, contact):
    inactive = SurveyFactory(kind="custom", is_active=False)

    response = api_as(owner).post(
        "/api/v1/survey-invitations/", {"project": project.pk, "contact": contact.pk, "survey": inactive.pk}
    )

    assert response.status_code == 400
    assert response.data["survey"] == ["该调查未启用。"]  # "This survey is not active.", in Chinese


def test_metrics_are_paged_refuse_unknown_parameters_and_ignore_empty_ones(api_as, owner):
    api = api_as(owner)

    page = api.get("/api/v1/metrics/", {"group_by": "", "page_size": 1})
    assert page.status_code == 200
    assert {"count", "next", "previous", "results", "group_by"} <= set(page.data)
    assert page.data["group_by"] == "none"
    refused = api.get("/api/v1/metrics/", {"groupby": "rm", "project": 1})
    assert refused.status_code == 400
    assert set(refused.data) == {"groupby", "project"}


def test_the_schema_asks_no_body_to_revoke_an_invitation(tmp_path):
    path = tmp_path / "schema.yml"
    call_command("spectacular", "--file", str(path))
    schema = yaml.safe_load(path.read_text())

    revoke = schema["paths"]["/api/v1/survey-invitations/{id}/revoke/"]["post"]

    assert "requestBody" not in revoke


def test_a_list_without_its_own_sort_fields_cannot_be_sorted_by_a_relation_of_many_rows(rf):
    class ListWithoutSortFields:
        serializer_class = SurveySerializer

        def get_serializer_class(self):
            return self.serializer_class

    valid = StrictOrderingFilter().get_valid_fields(
        Survey.objects.all(), ListWithoutSortFields(), {"request": rf.get("/")}
    )

    names = {name for name, _label in valid}
    assert "questions" not in names
    assert {"id", "kind", "name_en"} <= names
