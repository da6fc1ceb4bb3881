import pytest
from django.core import mail
from django.urls import reverse

from digests.emails import unsubscribe_token
from digests.models import DigestPreference
from tests.factories import DigestPreferenceFactory

from .conftest import W10

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def english_browser(client):
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"


PREVIEW = "/digests/preview/"
SETTINGS = "/digests/settings/"


def test_the_preview_shows_the_html_and_text_parts_of_any_week(client, week10, manager):
    client.force_login(manager)
    response = client.get(PREVIEW, {"week": "2025-W10"})
    assert response.status_code == 200
    page = response.content.decode()
    assert "Weekly digest 2025-W10" in page
    assert "Promises kept: 33.3%" in page  # the text part
    assert f"{reverse('digests:preview-email')}?week=2025-W10" in page
    assert mail.outbox == []


def test_the_preview_defaults_to_the_last_complete_week(client, week10, manager):
    client.force_login(manager)
    assert client.get(PREVIEW).context["week"] == W10


def test_the_framed_html_part_may_use_inline_styles_but_no_script(client, week10, manager):
    client.force_login(manager)
    response = client.get(reverse("digests:preview-email"), {"week": "2025-W10"})
    assert response.status_code == 200
    assert b"<table" in response.content
    policy = response["Content-Security-Policy"]
    assert "style-src 'unsafe-inline'" in policy and "script-src 'none'" in policy
    assert response["X-Frame-Options"] == "SAMEORIGIN"


def test_the_preview_needs_a_login(client, db):
    response = client.get(PREVIEW)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert client.get(reverse("digests:preview-email")).status_code == 302


def test_a_bad_week_is_refused_naming_the_format(client, manager):
    client.force_login(manager)
    response = client.get(PREVIEW, {"week": "last week"})
    assert response.status_code == 400
    assert "2025-W09" in response.content.decode()
    assert client.get(reverse("digests:preview-email"), {"week": "2025-W99"}).status_code == 400


def test_a_relationship_managers_preview_covers_their_own_portfolio_only(client, week10, teammate):
    client.force_login(teammate)
    page = client.get(PREVIEW, {"week": "2025-W10"}).content.decode()
    assert "Your own portfolio" in page
    assert "Missed commitments: 1" in page  # the wind promise kept late; Jiangsu is not theirs
    assert "Credit approval promise missed" not in page
    assert "Send the signed term sheet" not in page


def test_a_relationship_manager_opts_in_on_the_settings_page(client, owner):
    client.force_login(owner)
    assert client.get(SETTINGS).context["form"].initial["enabled"] is False
    response = client.post(SETTINGS, {"enabled": "on", "language": "zh-hans"})
    assert response.status_code == 302
    preference = DigestPreference.objects.get(user=owner)
    assert (preference.enabled, preference.language) == (True, "zh-hans")


def test_a_manager_switches_the_digest_off(client, manager):
    client.force_login(manager)
    assert client.get(SETTINGS).context["form"].initial["enabled"] is True
    client.post(SETTINGS, {"language": ""})
    assert DigestPreference.objects.get(user=manager).enabled is False


def test_department_staff_cannot_switch_the_digest_on(client, department_user):
    client.force_login(department_user)
    response = client.post(SETTINGS, {"enabled": "on", "language": ""})
    assert response.status_code == 400
    assert "managers and relationship managers" in response.content.decode()
    assert not DigestPreference.objects.exists()


def test_an_unknown_language_is_refused_on_the_language_field(client, manager):
    client.force_login(manager)
    response = client.post(SETTINGS, {"enabled": "on", "language": "fr"})
    assert response.status_code == 400
    assert response.context["form"].errors["language"]


def test_settings_need_a_login(client, db):
    assert client.get(SETTINGS).status_code == 302


def test_the_unsubscribe_link_asks_first_and_a_post_switches_off(client, manager):
    url = reverse("digests:unsubscribe", args=[unsubscribe_token(manager)])
    assert client.get(url).status_code == 200
    assert not DigestPreference.objects.exists()  # a link scanner's GET changes nothing
    assert client.post(url).status_code == 200  # one-click, no CSRF token, no login
    assert DigestPreference.objects.get(user=manager).enabled is False


def test_unsubscribing_keeps_the_chosen_language(client, manager):
    DigestPreferenceFactory(user=manager, enabled=True, language="zh-hans")
    client.post(reverse("digests:unsubscribe", args=[unsubscribe_token(manager)]))
    assert DigestPreference.objects.filter(user=manager, enabled=False, language="zh-hans").exists()


def test_a_forged_unsubscribe_token_is_not_found(client, manager):
    assert client.post(reverse("digests:unsubscribe", args=["1:forged"])).status_code == 404


def test_the_admin_lists_sent_digests(client, admin_user, week10, manager):
    from django.core.management import call_command

    call_command("send_digests")
    client.force_login(admin_user)
    page = client.get(reverse("admin:digests_digestrun_changelist")).content.decode()
    assert "2025-W10" in page
    assert client.get(reverse("admin:digests_digestpreference_changelist")).status_code == 200


def test_the_admin_refuses_to_switch_the_digest_on_for_department_staff(client, admin_user, department_user):
    client.force_login(admin_user)
    response = client.post(
        reverse("admin:digests_digestpreference_add"),
        {"user": department_user.pk, "enabled": "on", "language": ""},
    )
    assert response.status_code == 200
    assert "managers and relationship managers" in response.content.decode()
    assert not DigestPreference.objects.exists()


@pytest.mark.parametrize("week", ["0001-W01", "9999-W52"])
def test_a_week_at_the_edge_of_the_calendar_is_refused_not_a_server_error(client, manager, week):
    client.force_login(manager)

    assert client.get(reverse("digests:preview"), {"week": week}).status_code == 400
    assert client.get(reverse("digests:preview-email"), {"week": week}).status_code == 400


def test_a_preview_in_another_language_than_the_digest_keeps_the_digest_in_one_language(
    client, week10, teammate
):
    teammate.language = "zh-hans"
    teammate.save()
    client.force_login(teammate)

    page = client.get(PREVIEW, {"week": "2025-W10"}).content.decode()  # the page in English

    assert "范围：您本人负责的项目" in page
    assert "Your own portfolio" not in page


def test_department_staff_are_told_who_gets_the_digest_and_not_offered_the_setting(
    client, week10, department_user
):
    client.force_login(department_user)
    page = client.get(PREVIEW, {"week": "2025-W10"}).content.decode()

    assert "Weekly digests are e-mailed to managers and relationship managers." in page
    assert "switch it on" not in page
    assert f'href="{SETTINGS}"' not in page


def test_a_relationship_manager_not_yet_receiving_is_told_how_to_switch_it_on(client, week10, owner):
    client.force_login(owner)
    page = client.get(PREVIEW, {"week": "2025-W10"}).content.decode()

    assert "switch it on in the digest settings" in page
    assert f'href="{SETTINGS}"' in page


def test_the_settings_page_offers_department_staff_no_switch(client, department_user, owner):
    client.force_login(department_user)
    page = client.get(SETTINGS).content.decode()
    assert 'name="enabled"' not in page
    assert "Weekly digests are e-mailed to managers and relationship managers." in page

    client.force_login(owner)
    assert 'name="enabled"' in client.get(SETTINGS).content.decode()


def test_a_week_that_has_not_begun_is_refused_and_not_offered(client, manager, time_machine):
    time_machine.move_to("2026-12-02T10:00:00+08:00", tick=False)  # a Wednesday of 2026-W49
    client.force_login(manager)

    this_week = client.get(PREVIEW, {"week": "2026-W49"})
    future = client.get(PREVIEW, {"week": "2026-W50"})
    framed = client.get(reverse("digests:preview-email"), {"week": "2027-W01"})

    assert this_week.status_code == 200
    assert "?week=2026-W50" not in this_week.content.decode()
    assert 'href="?week=2026-W48"' in this_week.content.decode()
    assert future.status_code == 400
    assert "Week 2026-W50 has not begun yet." in future.content.decode()
    assert framed.status_code == 400
