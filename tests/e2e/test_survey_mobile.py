"""A client answers a survey in Chinese on a phone, without logging in."""

import pytest

from feedback import services
from feedback.models import SurveyResponse
from tests.e2e.browser import ARTIFACTS
from tests.factories import invitation_with_link, shipped_survey


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_client_answers_the_milestone_survey_in_chinese_on_a_phone(
    live_server, phone_page, project, contact
):
    survey = shipped_survey("milestone")
    invitation, token = invitation_with_link(project=project, contact=contact, survey=survey)
    page = phone_page
    page.goto(f"{live_server.url}/s/{token}/")
    assert page.locator("h1").inner_text() == "项目节点调查"
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # one column, no sideways scroll
    csat, ces, text = survey.questions.order_by("position")
    tap = page.locator(f"label.tap:has(input[name='q_{csat.pk}'][value='2'])")
    assert tap.bounding_box()["height"] >= 44  # a thumb-sized target
    tap.click()
    page.locator(f"label.tap:has(input[name='q_{ces.pk}'][value='3'])").click()
    page.fill(f"textarea[name='q_{text.pk}']", "审批进度一直没人通知我们，材料也要反复提交。")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "survey-mobile-zh.png"), full_page=True)
    page.get_by_role("button", name="提交").click()
    page.wait_for_selector("text=感谢您的回答")
    page.screenshot(path=str(ARTIFACTS / "survey-mobile-zh-thanks.png"), full_page=True)
    response = SurveyResponse.objects.get(invitation=invitation)
    assert (response.csat, response.ces, response.is_detractor) == (2, 3, True)
    processed = services.response_process(response_id=response.pk)  # a worker's job after the commit
    assert processed.categories == ["late_information", "complex_process"]
