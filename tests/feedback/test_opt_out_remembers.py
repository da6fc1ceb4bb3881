"""Opening the opt-out link again after opting out says so, instead of asking again."""

import pytest

from finance_projects.models import Contact

pytestmark = pytest.mark.django_db


def opt_out_url(token):
    return f"/s/{token}/opt-out/"


def test_the_opt_out_link_opened_again_says_the_contact_already_unsubscribed(client, linked):
    _invitation, token = linked
    client.post(opt_out_url(token))

    again = client.get(opt_out_url(token))

    assert again.status_code == 200
    body = again.content.decode()
    assert "您已退订" in body
    assert "<form" not in body
    assert "是的，停止向我发送调查" not in body


def test_a_contact_opted_out_elsewhere_is_told_in_their_chosen_language(client, linked):
    invitation, token = linked
    Contact.objects.filter(pk=invitation.contact_id).update(opted_out=True)

    body = client.get(opt_out_url(token) + "?lang=en").content.decode()

    assert "You have already unsubscribed" in body
    assert "<form" not in body


def test_a_contact_still_subscribed_is_asked_to_confirm(client, linked):
    _invitation, token = linked

    body = client.get(opt_out_url(token)).content.decode()

    assert "<form" in body
    assert "您已退订" not in body


def test_a_bad_opt_out_token_still_gets_the_identical_not_valid_page(client, linked):
    _invitation, token = linked
    client.post(opt_out_url(token))

    unknown = client.get(opt_out_url("no-such-token-at-all-000000000000"))
    survey_unknown = client.get("/s/no-such-token-at-all-000000000000/")

    assert unknown.status_code == 404
    assert unknown.content == survey_unknown.content
