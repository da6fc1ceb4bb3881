"""The response recorded when resolving is shown to the client word for word (their complaint page,
the e-mail), and the resolve form says so. The client's page says how the decision reached them:
"sent" or "e-mailed" only when it was, by phone or at a meeting otherwise, with the day."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse

from complaints import services
from finance_projects.tokens import hash_token, new_token

pytestmark = pytest.mark.django_db

AS_WRITTEN = (
    "The client reads this exactly as written: on their complaint page and, when sent by e-mail, in the "
    "e-mail."
)
RESPONSE = "We apologise; the committee date is 9 March and we will call you weekly."


def resolve(complaint, by, channel):
    return services.complaint_resolve(
        complaint=complaint,
        by=by,
        response_text=RESPONSE,
        response_channel=channel,
        root_cause="internal_communication",
    )


def client_page(client, complaint, language) -> str:
    token = new_token()
    complaint.links.create(
        token_hash=hash_token(token), expires_at=complaint.received_at + timedelta(days=90)
    )
    response = client.get(f"/c/{token}/?lang={language}")
    assert response.status_code == 200
    return response.content.decode()


def next_step(body: str) -> str:
    return re.search(r"<h2>[^<]*</h2>\s*<p>(.*?)</p>", body.split('id="client-status"')[1], re.S).group(1)


def test_the_resolve_form_says_the_client_reads_the_response_as_written(client, acknowledged, manager):
    client.force_login(manager)
    body = client.get(
        reverse("complaints:detail", args=[acknowledged.pk]), HTTP_ACCEPT_LANGUAGE="en"
    ).content.decode()

    form = re.search(r'<form[^>]*id="resolve-form".*?</form>', body, re.S).group(0)
    assert AS_WRITTEN.replace("'", "&#x27;") in form


def test_the_help_text_is_in_chinese_too(client, acknowledged, manager):
    client.force_login(manager)
    body = client.get(
        reverse("complaints:detail", args=[acknowledged.pk]), HTTP_ACCEPT_LANGUAGE="zh-hans"
    ).content.decode()

    assert "客户将原样看到这段文字" in body


@pytest.mark.parametrize(
    ("channel", "english", "chinese"),
    [
        (
            "phone",
            "We gave you our decision by phone on 2026-03-02",
            "我们已于 2026-03-02 通过电话告知您处理决定",
        ),
        (
            "meeting",
            "We gave you our decision at a meeting on 2026-03-02",
            "我们已于 2026-03-02 在会面时告知您",
        ),
    ],
)
def test_a_decision_given_by_phone_or_at_a_meeting_is_not_said_to_be_sent(
    client, acknowledged, manager, channel, english, chinese
):
    resolved = resolve(acknowledged, manager, channel)

    in_english = next_step(client_page(client, resolved, "en"))
    in_chinese = next_step(client_page(client, resolved, "zh-hans"))

    assert english in in_english and "sent" not in in_english and "e-mailed" not in in_english
    assert chinese in in_chinese and "发送" not in in_chinese and "邮件" not in in_chinese
    assert RESPONSE in client_page(client, resolved, "en")


def test_an_emailed_decision_is_said_to_be_emailed(client, resolved):
    assert "We e-mailed you our decision on 2026-03-02" in next_step(client_page(client, resolved, "en"))
    assert "通过电子邮件向您发送处理决定" in next_step(client_page(client, resolved, "zh-hans"))


def test_a_decision_sent_by_letter_is_said_to_be_sent_by_letter(client, acknowledged, manager):
    resolved = resolve(acknowledged, manager, "letter")

    assert "We sent you our decision by letter on 2026-03-02" in next_step(
        client_page(client, resolved, "en")
    )
