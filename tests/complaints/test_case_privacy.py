"""The case library is open to all staff: a published case names no client, contact or member of
staff, in any form (陈女士, 王总, "Ms Chen", "Wang Wei", the client's short name), its markers are
in the text's own language, the publisher reviews the narrative before it is published, and a
narrative that still identifies someone is refused."""

import re

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import translation

from complaints import services
from complaints.anonymise import anonymiser_for
from complaints.models import CaseStudy
from tests.factories import ClientFactory, ComplaintFactory, ContactFactory, ProjectFactory, UserFactory
from tests.html_ids import assert_ids_sound

pytestmark = pytest.mark.django_db

RESPONSE = (
    "陈女士您好：王经理（Wang Wei）已与龙源水务确认放款时间，王总也已知悉。"
    "如有问题请联系 fang.chen.0@client07.example.com 或 021-5070-1234。"
)


@pytest.fixture
def rm(team):
    return UserFactory(username="wang.wei", first_name="伟", last_name="王", team=team)


@pytest.fixture
def longyuan(rm, team):
    client_org = ClientFactory(name="龙源水务有限公司", relationship_manager=rm, team=team)
    ContactFactory(
        client=client_org,
        name="陈芳",
        email="fang.chen.0@client07.example.com",
        phone="+86 21 5070 1234",
        language="zh-hans",
    )
    return client_org


@pytest.fixture
def resolved_case(longyuan, teammate):
    project = ProjectFactory(client=longyuan, name="莆田污水处理厂一期", code="DEMO-0007")
    complaint = ComplaintFactory(
        project=project,
        contact=longyuan.contacts.get(),
        description="放款审批已经两周没有任何消息，龙源水务的施工队在等资金进场。",
    )
    services.complaint_acknowledge(complaint=complaint, by=teammate)
    return services.complaint_resolve(
        complaint=complaint,
        by=teammate,
        response_text=RESPONSE,
        response_channel="email",
        root_cause="internal_communication",
    )


IDENTIFYING = (
    "陈女士",
    "王经理",
    "王总",
    "龙源",
    "Wang Wei",
    "陈芳",
    "fang.chen",
    "5070",
    "莆田",
    "DEMO-0007",
)


def test_the_scrubber_removes_titled_surnames_short_client_names_and_latin_names_with_chinese_markers(
    resolved_case,
):
    scrub = anonymiser_for(resolved_case).scrub

    text = scrub(RESPONSE)

    for secret in IDENTIFYING:
        assert secret not in text, secret
    assert text.startswith("【某人】您好：【某人】（【某人】）已与【客户】确认放款时间，【某人】也已知悉。")
    assert "【邮箱】" in text and "【电话】" in text
    assert "[" not in text and "person" not in text


def test_english_text_gets_english_markers_for_mr_ms_and_names_in_either_order(resolved_case):
    scrub = anonymiser_for(resolved_case).scrub

    text = scrub("Ms Chen told Wang Wei, then Wei Wang and Mr Li, that Fang Chen at 龙源水务 waits.")

    assert text == "[person] told [person], then [person] and [person], that [person] at [client] waits."


def test_a_surname_inside_a_common_word_is_not_taken_for_a_name(resolved_case):
    scrub = anonymiser_for(resolved_case).scrub

    assert scrub("基金经理和工程经理已汇总数据。") == "基金经理和工程经理已汇总数据。"


def test_the_publish_form_shows_the_scrubbed_narrative_to_edit_and_publishes_what_was_confirmed(
    client, resolved_case, manager
):
    client.force_login(manager)
    page = client.get(reverse("complaints:detail", args=[resolved_case.pk]))
    html = page.content.decode()
    assert_ids_sound(html)
    form = page.context["forms"]["publish"]
    drafted = form.initial["summary_zh"]
    assert "施工队在等资金进场" in drafted and "您好" in drafted
    for secret in IDENTIFYING:
        assert secret not in drafted, secret
    textarea = re.search(r'<textarea name="summary_zh"[^>]*>(.*?)</textarea>', html, re.S)
    assert textarea and "【客户】的施工队在等资金进场" in textarea.group(1)
    assert form.initial["summary_en"] == ""  # nothing was written in English

    confirmed = "客户两周未获放款审批消息，处理人确认了放款时间。"
    response = client.post(
        reverse("complaints:action", args=[resolved_case.pk, "publish"]),
        {
            "title_zh": "放款审批无消息",
            "lessons_zh": "每周告知进度。",
            "summary_zh": confirmed,
            "summary_en": "",
        },
    )

    assert response.status_code == 302
    case = CaseStudy.objects.get()
    assert (case.summary_zh, case.summary_en) == (confirmed, "")
    shown = client.get(reverse("complaints:case", args=[case.pk]), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert confirmed in shown


@pytest.mark.parametrize(
    "kept",
    [
        "陈女士您好",
        "请联系王经理",
        "Wang Wei 已确认",
        "龙源水务的施工队",
        "fang.chen.0@client07.example.com",
        "021-5070-1234",
    ],
)
def test_a_narrative_that_still_identifies_someone_is_refused_and_nothing_is_published(
    client, resolved_case, manager, kept
):
    client.force_login(manager)

    response = client.post(
        reverse("complaints:action", args=[resolved_case.pk, "publish"]),
        {"title_zh": "放款审批无消息", "lessons_zh": "每周告知进度。", "summary_zh": f"{kept}，放款已确认。"},
    )

    assert response.status_code == 400
    errors = response.context["forms"]["publish"].errors
    assert list(errors) == ["summary_zh"]
    assert "identifies" in errors["summary_zh"][0]
    assert not CaseStudy.objects.exists()


def test_the_refusal_is_in_the_publishers_language(resolved_case, manager):
    with translation.override("zh-hans"), pytest.raises(ValidationError) as refused:
        services.case_publish(
            complaint=resolved_case,
            by=manager,
            title_zh="放款审批无消息",
            title_en="",
            lessons_zh="每周告知进度。",
            lessons_en="",
            summary_zh="陈女士您好，放款已确认。",
        )

    assert "陈女士" in refused.value.message_dict["summary_zh"][0]
    assert re.search(r"[\u4e00-\u9fff]{4}", refused.value.message_dict["summary_zh"][0].replace("陈女士", ""))
    assert not CaseStudy.objects.exists()


def test_a_chinese_complaint_gets_no_english_narrative_made_from_chinese_text(resolved_case, manager):
    case = services.case_publish(
        complaint=resolved_case,
        by=manager,
        title_zh="放款审批无消息",
        title_en="",
        lessons_zh="每周告知进度。",
        lessons_en="",
    )

    assert case.summary_en == "" and case.title_en == "" and case.lessons_en == ""
    assert "施工队" in case.summary_zh and "陈女士" not in case.summary_zh
    with translation.override("en"):
        assert case.summary == case.summary_zh  # English readers see the Chinese, not a fake
