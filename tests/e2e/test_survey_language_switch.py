"""A client who switches the survey's language on a phone keeps what they ticked and typed."""

import pytest

from feedback.models import SurveyResponse
from tests.e2e.browser import ARTIFACTS
from tests.factories import invitation_with_link, shipped_survey


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_switching_to_english_keeps_the_ticked_score_and_the_typed_comment(
    live_server, phone_page, project, contact
):
    survey = shipped_survey("milestone")
    invitation, token = invitation_with_link(project=project, contact=contact, survey=survey)
    csat, _ces, text = survey.questions.order_by("position")
    page = phone_page
    page.goto(f"{live_server.url}/s/{token}/")
    page.locator(f"label.tap:has(input[name='q_{csat.pk}'][value='4'])").click()
    page.fill(f"textarea[name='q_{text.pk}']", "材料清单来得很及时。")

    page.get_by_role("button", name="English").click()
    page.wait_for_selector("h1:text('Milestone survey')")

    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "survey-mobile-switched-en.png"), full_page=True)
    assert page.locator(f"input[name='q_{csat.pk}'][value='4']").is_checked()
    assert page.locator(f"textarea[name='q_{text.pk}']").input_value() == "材料清单来得很及时。"
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert page.get_by_role("button", name="中文").bounding_box()["height"] >= 44  # a thumb-sized target
    assert SurveyResponse.objects.get(invitation=invitation).submitted_at is None

    page.goto(f"{live_server.url}/s/{token}/")  # the link opened again, later
    assert page.locator("h1").inner_text() == "Milestone survey"
    assert page.locator(f"input[name='q_{csat.pk}'][value='4']").is_checked()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_enter_on_a_ticked_score_submits_the_survey_and_does_not_switch_the_language(
    live_server, phone_page, project, contact
):
    survey = shipped_survey("milestone")
    _invitation, token = invitation_with_link(project=project, contact=contact, survey=survey)
    csat, _ces, _text = survey.questions.order_by("position")
    page = phone_page
    page.goto(f"{live_server.url}/s/{token}/")
    page.locator(f"label.tap:has(input[name='q_{csat.pk}'][value='4'])").click()

    with page.expect_request(lambda request: request.method == "POST") as posted:
        page.locator(f"input[name='q_{csat.pk}'][value='4']").press("Enter")

    assert "action=submit" in posted.value.post_data
    assert "lang_switch" not in posted.value.post_data
    page.wait_for_selector("text=请回答此题。")  # the second score is still missing, in Chinese
