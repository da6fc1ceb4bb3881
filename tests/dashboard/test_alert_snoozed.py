"""Snoozed alerts stay within reach: counted with a link that lists them, and unsnoozed early."""

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from finance_projects import alerts as alert_services
from finance_projects.models import Alert
from tests.factories import AlertFactory, ClientFactory, ProjectFactory

pytestmark = pytest.mark.django_db


def snoozed(project, **fields):
    return AlertFactory(project=project, snoozed_until=timezone.now() + timedelta(hours=5), **fields)


def test_the_home_snoozed_count_links_to_the_list_of_snoozed_alerts_with_their_local_until_time(
    browser, owner, project
):
    owner.time_zone = "America/New_York"
    owner.save(update_fields=["time_zone"])
    alert = snoozed(project, message="Sleeping alert")
    AlertFactory(project=project, message="Awake alert")
    page = browser(owner)

    home = page.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert '<a href="?alerts=snoozed#alerts" data-list="snoozed">1 snoozed</a>' in home
    assert "Sleeping alert" not in home

    listed = page.get("/", {"alerts": "snoozed"}, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    until = alert.snoozed_until.astimezone(ZoneInfo("America/New_York")).strftime("%Y-%m-%d %H:%M")
    assert "My snoozed alerts" in listed
    assert "Sleeping alert" in listed
    assert "Awake alert" not in listed
    assert f"Snoozed until {until}" in listed
    assert f'action="{reverse("dashboard:alert-action", args=[alert.pk, "unsnooze"])}"' in listed


def test_unsnoozing_from_the_page_brings_the_alert_back_to_the_open_list(browser, owner, project):
    alert = snoozed(project, message="Sleeping alert")
    page = browser(owner)

    response = page.post(
        reverse("dashboard:alert-action", args=[alert.pk, "unsnooze"]), {"next": "/?alerts=snoozed"}
    )

    alert.refresh_from_db()
    assert alert.snoozed_until is None
    assert response.status_code == 302
    assert response["Location"] == "/?alerts=snoozed"
    assert "Sleeping alert" in page.get("/").content.decode()


def test_an_outsider_cannot_unsnooze(browser, outsider, project):
    alert = snoozed(project)

    response = browser(outsider).post(reverse("dashboard:alert-action", args=[alert.pk, "unsnooze"]))

    assert response.status_code == 404
    assert Alert.objects.get(pk=alert.pk).snoozed_until is not None


def test_unsnooze_service_ends_the_snooze_and_leaves_a_waking_alert_alone(owner, project):
    alert = snoozed(project)
    awake = AlertFactory(project=project)

    alert_services.alert_unsnooze(alert=alert, by=owner)
    alert_services.alert_unsnooze(alert=awake, by=owner)

    alert.refresh_from_db()
    awake.refresh_from_db()
    assert (alert.snoozed_until, awake.snoozed_until) == (None, None)
    assert alert.history.first().history_user == owner


def test_a_resolved_alert_cannot_be_unsnoozed(owner, project):
    alert = snoozed(project, resolved_at=timezone.now())

    with pytest.raises(ValidationError):
        alert_services.alert_unsnooze(alert=alert, by=owner)


def test_the_api_unsnoozes_an_alert_the_caller_sees_and_404s_for_others(api_as, owner, outsider, project):
    alert = snoozed(project)
    url = f"/api/v1/alerts/{alert.pk}/unsnooze/"

    assert api_as(outsider).post(url).status_code == 404
    response = api_as(owner).post(url)

    assert response.status_code == 200
    assert response.json()["snoozed_until"] is None


def test_department_staff_may_unsnooze_the_alerts_they_see(browser, owner, department_user, project):
    from tests.factories import CommitmentFactory

    theirs = CommitmentFactory(project=project, owner=department_user)
    alert = snoozed(project, subject_id=theirs.pk)

    browser(department_user).post(reverse("dashboard:alert-action", args=[alert.pk, "unsnooze"]))

    assert Alert.objects.get(pk=alert.pk).snoozed_until is None


def test_the_team_count_shows_the_snoozed_alerts_beside_it_with_a_link(browser, manager, teammate, project):
    teammates = ProjectFactory(client=ClientFactory(relationship_manager=teammate))
    AlertFactory(project=project)
    snoozed(teammates, message="Teammate's sleeping alert")
    page = browser(manager)

    body = page.get("/team/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'Team alerts <span class="count" id="alerts-count">1</span>' in body
    assert '<a href="?alerts=snoozed#alerts" data-list="snoozed">1 snoozed</a>' in body

    listed = page.get("/team/", {"alerts": "snoozed"}, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Snoozed team alerts" in listed
    assert "Teammate&#x27;s sleeping alert" in listed


def test_the_snoozed_count_and_link_are_in_chinese_for_a_chinese_reader(browser, owner, project):
    snoozed(project)

    body = browser(owner).get("/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()

    assert ">1 条已暂缓</a>" in body
    listed = browser(owner).get("/", {"alerts": "snoozed"}, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "我的已暂缓预警" in listed
    assert "取消暂缓" in listed
