"""Pages a client opens from a personal link carry the bank's name, not the product's."""

import html
import re
from datetime import timedelta

import pytest
from django.utils import timezone

from complaints.models import ComplaintLink
from finance_projects import services
from finance_projects.tokens import hash_token
from tests.factories import ComplaintFactory

pytestmark = pytest.mark.django_db


def brand_and_title(body: str) -> tuple[str, str]:
    brand = re.search(r'class="brand"[^>]*>(.*?)</', body)
    title = re.search(r"<title>(.*?)</title>", body, re.S)
    assert brand and title, body
    return html.unescape(brand.group(1)), html.unescape(title.group(1))


def client_pages(client, project, contact, owner) -> dict[str, str]:
    _link, status_token = services.status_link_create(project=project, contact=contact, created_by=owner)
    complaint = ComplaintFactory(project=project, contact=contact)
    complaint_token = "c" * 43
    ComplaintLink.objects.create(
        complaint=complaint,
        token_hash=hash_token(complaint_token),
        expires_at=timezone.now() + timedelta(days=1),
    )
    return {
        path: client.get(path, HTTP_ACCEPT_LANGUAGE="en").content.decode()
        for path in (f"/p/{status_token}/", f"/c/{complaint_token}/", "/p/not-a-real-token/")
    }


# The bank's name when none is configured, in the language each page speaks.
DEFAULT_BANK = {"en": "Project Finance", "zh-hans": "本行项目融资部"}


def test_client_pages_are_branded_with_the_bank_in_the_header_and_title(client, project, contact, owner):
    for path, body in client_pages(client, project, contact, owner).items():
        language = re.search(r'<html lang="([^"]+)"', body).group(1)
        brand, title = brand_and_title(body)
        assert brand == DEFAULT_BANK[language], path
        assert title.endswith(f"· {DEFAULT_BANK[language]}"), path
        assert "CEM" not in brand + title, path


def test_the_configured_bank_name_is_shown(client, project, contact, owner, settings):
    settings.FEEDBACK = {**getattr(settings, "FEEDBACK", {}), "BANK_NAME": "Bank of Tomorrow"}

    for path, body in client_pages(client, project, contact, owner).items():
        assert brand_and_title(body)[0] == "Bank of Tomorrow", path


def test_staff_pages_keep_the_products_name(client, owner):
    client.force_login(owner)

    assert brand_and_title(client.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode())[0] == "CEM"
