"""Refusals and errors answer with the site's own page in the reader's language, not Django's
bare English one."""

import json

import pytest
from django.test import Client, override_settings
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_a_refused_page_says_why_in_chinese_with_the_way_back(client, owner):
    client.force_login(owner)

    response = client.get("/team/", HTTP_ACCEPT_LANGUAGE="zh-hans")

    assert response.status_code == 403
    body = response.content.decode()
    assert "<title>无权访问 · CEM</title>" in body
    assert "如工作需要，请联系您的团队经理。" in body and "返回我的工作台" in body


def test_another_teams_project_is_not_found_without_saying_whose_it_is(client, outsider, project):
    client.force_login(outsider)

    response = client.get(reverse("dashboard:project", args=[project.pk]), HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 404
    body = response.content.decode()
    assert "This page does not exist, or it is not one you may see." in body
    assert project.name not in body


def test_a_form_posted_without_its_security_token_is_refused_with_nothing_saved(owner, project):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(owner)
    touchpoints = project.touchpoints.count()

    response = browser.post(
        reverse("dashboard:project-action", args=[project.pk, "touchpoint"]),
        {"channel": "call", "occurred_at": "2026-11-30T10:00", "summary": "Called"},
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    )

    assert response.status_code == 403
    assert "表单已过期" in response.content.decode()
    assert project.touchpoints.count() == touchpoints


def test_an_anonymous_visitor_is_not_offered_a_dashboard(client):
    response = client.get("/no-such-page/", HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 404
    assert "Page not found" in response.content.decode()
    assert "Back to my dashboard" not in response.content.decode()


@override_settings(ROOT_URLCONF="tests.error_urls")
def test_a_server_error_answers_with_the_translated_page():
    browser = Client(raise_request_exception=False)

    response = browser.get("/fails/", HTTP_ACCEPT_LANGUAGE="zh-hans")

    assert response.status_code == 500
    assert "出错了" in response.content.decode() and "错误已记录。" in response.content.decode()


@pytest.mark.parametrize("path", ["/p/", "/c/"])
def test_a_dead_client_link_gets_the_client_page_in_the_language_picked(client, path):
    response = client.get(path + "x" * 43 + "/?lang=zh-hans", HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 404
    body = response.content.decode()
    assert "此链接无效" in body and "请联系您的客户经理获取新链接。" in body
    assert response["Content-Language"] == "zh-hans"
    assert "no-store" in response["Cache-Control"]
    assert "Log out" not in body and "工作台" not in body


def test_the_site_icon_is_named_on_every_page_and_found_at_favicon_ico(client):
    page = client.get("/accounts/login/").content.decode()
    icon = client.get("/favicon.ico")

    assert '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">' in page
    assert icon.status_code == 301 and icon["Location"] == "/static/favicon.svg"


def test_an_unknown_api_address_answers_in_json_like_the_api(client, owner):
    client.force_login(owner)

    response = client.get("/api/v1/nonexistent/", HTTP_ACCEPT_LANGUAGE="zh-hans")

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": "未找到。"}


@override_settings(ROOT_URLCONF="tests.error_urls")
def test_a_server_error_under_the_api_answers_in_json():
    browser = Client(raise_request_exception=False)

    response = browser.get("/api/v1/fails/", HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 500
    assert json.loads(response.content) == {"detail": "A server error occurred."}
