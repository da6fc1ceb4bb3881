"""A survey's questions are written with it through the API (`surveys/`): created, changed,
reordered and deleted in one request, every question checked by the model's rules, nothing
saved when one is refused, and the survey's version moved so no process keeps old questions."""

from datetime import UTC, datetime
from urllib.parse import urlsplit

import pytest
import time_machine

from feedback import services
from feedback.models import Question, Survey
from tests.factories import QuestionFactory, SurveyFactory

pytestmark = pytest.mark.django_db

SURVEYS = "/api/v1/surveys/"
NPS = {"type": "nps", "text_zh": "您有多大可能向同行推荐我们？", "text_en": "Would you recommend us?"}
TEXT = {
    "type": "text",
    "text_zh": "我们哪里可以做得更好？",
    "text_en": "What could we do better?",
    "required": False,
}
CSAT = {"type": "csat", "text_zh": "您对审批进度满意吗？", "text_en": "Are you satisfied with the approval?"}
CES = {"type": "ces", "text_zh": "提交资料容易吗？", "text_en": "Was sending the documents easy?"}


def survey_body(**fields):
    return {"kind": "custom", "name_zh": "授信审批回访", "name_en": "Credit approval check-in", **fields}


def stored_questions(survey_id: int) -> list[tuple]:
    return list(
        Question.objects.filter(survey_id=survey_id)
        .order_by("position", "id")
        .values_list("id", "position", "type", "text_en", "choices", "required")
    )


@pytest.fixture
def admin_api(api_as, admin_user):
    return api_as(admin_user)


@pytest.fixture
def three_questions():
    """A survey asking NPS, then a comment, then CSAT, as the admin left it; and those questions."""
    survey = SurveyFactory(name_en="Annual review")
    nps = QuestionFactory(survey=survey, position=1, **NPS)
    text = QuestionFactory(survey=survey, position=2, **TEXT)
    csat = QuestionFactory(survey=survey, position=3, **CSAT)
    return survey, nps, text, csat


# --- Creating ---------------------------------------------------------------------------------


def test_a_survey_created_with_its_questions_can_be_sent_and_its_page_shows_them(
    admin_api, api_as, owner, project, contact, client
):
    created = admin_api.post(SURVEYS, survey_body(questions=[NPS, TEXT]), format="json")

    assert created.status_code == 201, created.content
    questions = created.json()["questions"]
    assert [(q["position"], q["type"], q["text_en"], q["required"]) for q in questions] == [
        (1, "nps", NPS["text_en"], True),
        (2, "text", TEXT["text_en"], False),
    ]
    assert [q["id"] for q in questions] == [row[0] for row in stored_questions(created.json()["id"])]

    sent = api_as(owner).post(
        "/api/v1/survey-invitations/",
        {"project": project.pk, "contact": contact.pk, "survey": created.json()["id"]},
        format="json",
    )

    assert sent.status_code == 201, sent.content
    page = client.get(urlsplit(sent.json()["url"]).path)
    assert page.status_code == 200
    body = page.content.decode()
    assert NPS["text_zh"] in body and TEXT["text_zh"] in body  # the contact reads Chinese


def test_a_question_keeps_the_position_it_was_given(admin_api):
    created = admin_api.post(
        SURVEYS, survey_body(questions=[{**NPS, "position": 20}, {**TEXT, "position": 10}]), format="json"
    )

    assert created.status_code == 201, created.content
    assert [(q["position"], q["type"]) for q in created.json()["questions"]] == [(10, "text"), (20, "nps")]


@pytest.mark.parametrize(
    ("bad", "errors"),
    [
        (
            {**NPS, "type": "choice", "choices": "yes|是|Yes"},
            {"choices": ["A single-choice question needs at least two options."]},
        ),
        (
            {**NPS, "type": "choice", "choices": "a|甲|A\na|乙|B"},
            {"choices": ["Two options have the same value."]},
        ),
        ({**NPS, "choices": "a|甲|A\nb|乙|B"}, {"choices": ["Only single-choice questions have options."]}),
        ({**NPS, "type": "matrix"}, {"type": ['"matrix" is not a valid choice.']}),
        ({**NPS, "text_en": ""}, {"text_en": ["This field may not be blank."]}),
        ({**NPS, "id": 999999}, {"id": ["This is not one of this survey's questions."]}),
    ],
    ids=["one-option", "same-option-twice", "options-on-a-score", "unknown-type", "no-text", "unknown-id"],
)
def test_a_survey_with_a_bad_question_is_refused_by_the_questions_index_and_nothing_is_stored(
    admin_api, bad, errors
):
    surveys, questions = Survey.objects.count(), Question.objects.count()

    refused = admin_api.post(
        SURVEYS, survey_body(questions=[NPS, bad, TEXT]), format="json", HTTP_ACCEPT_LANGUAGE="en"
    )

    assert refused.status_code == 400
    assert refused.json() == {"questions": {"1": errors}}
    assert (Survey.objects.count(), Question.objects.count()) == (surveys, questions)


def test_a_question_an_edit_leaves_incomplete_is_refused_by_the_model_rules(admin_api, three_questions):
    # A PATCH requires no field of a question, so a new one without a type gets past DRF.
    survey, nps, *_others = three_questions
    before = stored_questions(survey.pk)

    refused = admin_api.patch(
        f"{SURVEYS}{survey.pk}/",
        {"questions": [{"id": nps.pk}, {"text_zh": "新题", "text_en": "New"}]},
        format="json",
        HTTP_ACCEPT_LANGUAGE="en",
    )

    assert refused.status_code == 400
    assert refused.json() == {"questions": {"1": {"type": ["This field cannot be blank."]}}}
    assert stored_questions(survey.pk) == before


def test_the_refusals_are_explained_in_chinese_too(admin_api, three_questions):
    survey = three_questions[0]

    refused = admin_api.patch(
        f"{SURVEYS}{survey.pk}/",
        {"questions": [{**NPS, "id": 999999}, {**NPS, "type": "choice", "choices": "yes|是|Yes"}]},
        format="json",
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    )

    assert refused.status_code == 400
    assert refused.json() == {
        "questions": {"0": {"id": ["这不是该调查的题目。"]}, "1": {"choices": ["单选题至少需要两个选项。"]}}
    }


def test_creating_a_survey_takes_the_same_queries_for_five_questions_as_for_one(
    admin_api, django_assert_num_queries
):
    # The survey's check and insert, one insert for every question, one read for the answer,
    # and the savepoints around the service and the survey's constraint check.
    five = [NPS, TEXT, CSAT, CES, {**TEXT, "text_en": "Anything else?"}]
    with django_assert_num_queries(8):
        created = admin_api.post(SURVEYS, survey_body(questions=five), format="json")
    with django_assert_num_queries(8):
        admin_api.post(SURVEYS, survey_body(questions=[NPS]), format="json")

    assert created.status_code == 201, created.content
    assert len(stored_questions(created.json()["id"])) == 5


# --- Changing ---------------------------------------------------------------------------------


def test_an_update_replaces_reorders_and_deletes_questions_keeping_the_ids_of_those_changed(
    admin_api, three_questions
):
    survey, nps, text, csat = three_questions

    changed = admin_api.put(
        f"{SURVEYS}{survey.pk}/",
        survey_body(
            questions=[
                {**CSAT, "id": csat.pk},
                {**NPS, "id": nps.pk, "text_en": "How likely are you to recommend us to a peer?"},
                CES,
            ]
        ),
        format="json",
    )

    assert changed.status_code == 200, changed.content
    [added] = Question.objects.filter(survey=survey).exclude(pk__in=[nps.pk, csat.pk])
    expected = [
        (csat.pk, 1, "csat", CSAT["text_en"], "", True),
        (nps.pk, 2, "nps", "How likely are you to recommend us to a peer?", "", True),
        (added.pk, 3, "ces", CES["text_en"], "", True),
    ]
    assert stored_questions(survey.pk) == expected
    assert not Question.objects.filter(pk=text.pk).exists()
    answered = changed.json()["questions"]
    assert [(q["id"], q["position"], q["type"]) for q in answered] == [row[:3] for row in expected]


def test_a_survey_read_from_the_api_can_be_put_back_as_it_was(admin_api, three_questions):
    survey = three_questions[0]
    before = stored_questions(survey.pk)
    read = admin_api.get(f"{SURVEYS}{survey.pk}/").json()

    put_back = admin_api.put(f"{SURVEYS}{survey.pk}/", read, format="json")

    assert put_back.status_code == 200, put_back.content
    assert put_back.json() == read
    assert stored_questions(survey.pk) == before


def test_an_empty_list_deletes_every_question_and_the_survey_can_no_longer_be_sent(
    admin_api, api_as, owner, project, contact, three_questions
):
    survey = three_questions[0]

    emptied = admin_api.patch(f"{SURVEYS}{survey.pk}/", {"questions": []}, format="json")

    assert emptied.status_code == 200 and emptied.json()["questions"] == []
    assert not Question.objects.filter(survey=survey).exists()
    refused = api_as(owner).post(
        "/api/v1/survey-invitations/",
        {"project": project.pk, "contact": contact.pk, "survey": survey.pk},
        format="json",
    )
    assert refused.status_code == 400 and list(refused.json()) == ["survey"]


def test_the_id_of_another_surveys_question_is_refused_and_nothing_changes(admin_api, three_questions):
    survey, nps, *_others = three_questions
    stranger = QuestionFactory(survey=SurveyFactory(name_en="Someone else's"), **CES)
    before = (stored_questions(survey.pk), stored_questions(stranger.survey_id), survey.name_en)

    refused = admin_api.patch(
        f"{SURVEYS}{survey.pk}/",
        {"name_en": "Renamed", "questions": [{**NPS, "id": nps.pk}, {**CES, "id": stranger.pk}]},
        format="json",
        HTTP_ACCEPT_LANGUAGE="en",
    )

    assert refused.status_code == 400
    assert refused.json() == {"questions": {"1": {"id": ["This is not one of this survey's questions."]}}}
    survey.refresh_from_db()
    assert (stored_questions(survey.pk), stored_questions(stranger.survey_id), survey.name_en) == before


def test_a_question_named_twice_is_refused_on_its_second_mention(admin_api, three_questions):
    survey, nps, text, _csat = three_questions
    before = stored_questions(survey.pk)

    refused = admin_api.patch(
        f"{SURVEYS}{survey.pk}/",
        {"questions": [{"id": nps.pk}, {"id": text.pk}, {"id": nps.pk, "text_en": "Again"}]},
        format="json",
        HTTP_ACCEPT_LANGUAGE="en",
    )

    assert refused.status_code == 400
    assert refused.json() == {"questions": {"2": {"id": ["This question is listed twice."]}}}
    assert stored_questions(survey.pk) == before


@pytest.mark.parametrize("method", ["patch", "put"])
def test_a_write_without_questions_keeps_them(admin_api, three_questions, method):
    survey = three_questions[0]
    before = stored_questions(survey.pk)

    changed = getattr(admin_api, method)(
        f"{SURVEYS}{survey.pk}/", survey_body(name_en="Annual review 2026"), format="json"
    )

    assert changed.status_code == 200, changed.content
    assert [q["id"] for q in changed.json()["questions"]] == [row[0] for row in before]
    assert stored_questions(survey.pk) == before
    survey.refresh_from_db()
    assert survey.name_en == "Annual review 2026"


def test_changing_the_questions_moves_the_version_so_this_process_reads_the_new_ones(admin_api):
    # A frozen clock: saving the survey alone would keep its version where it was.
    with time_machine.travel(datetime(2026, 5, 4, 9, tzinfo=UTC), tick=False):
        survey = SurveyFactory()
        nps = QuestionFactory(survey=survey, **NPS)
        assert [q.pk for q in services.survey_questions(survey)] == [nps.pk]  # cached under this version
        version = survey.updated_at

        changed = admin_api.patch(f"{SURVEYS}{survey.pk}/", {"questions": [TEXT]}, format="json")

        assert changed.status_code == 200, changed.content
        survey.refresh_from_db()
        assert survey.updated_at > version
        assert [(q.type, q.text_en) for q in services.survey_questions(survey)] == [("text", TEXT["text_en"])]


def test_the_service_saves_nothing_when_the_survey_and_a_question_are_both_wrong():
    with pytest.raises(services.SurveyInvalid) as refused:
        services.survey_save(
            survey=None,
            fields={"kind": "custom", "name_zh": "", "name_en": "Pulse"},
            questions=[NPS, {**NPS, "type": "choice"}],
        )

    assert set(refused.value.message_dict) == {"name_zh", "questions"}
    assert [set(errors) for errors in refused.value.question_errors] == [set(), {"choices"}]
    assert not Survey.objects.filter(name_en="Pulse").exists()


# --- Who may write ----------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["owner", "manager", "department_user"])
def test_staff_who_are_not_administrators_may_not_write_surveys_or_their_questions(
    api_as, request, three_questions, who
):
    survey, nps, *_others = three_questions
    before = (Survey.objects.count(), stored_questions(survey.pk))
    api = api_as(request.getfixturevalue(who))
    url = f"{SURVEYS}{survey.pk}/"

    answers = [
        api.post(SURVEYS, survey_body(questions=[NPS]), format="json"),
        api.put(url, survey_body(questions=[CES]), format="json"),
        api.patch(url, {"questions": [{"id": nps.pk, "text_en": "Changed"}]}, format="json"),
    ]

    assert [answer.status_code for answer in answers] == [403, 403, 403]
    assert (Survey.objects.count(), stored_questions(survey.pk)) == before
    assert api.get(url).status_code == 200  # they read it
