"""The project page's forms: every field has an id of its own, its label points at it, and its
error message is the one the field names in aria-describedby (read out with the field)."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from dashboard.project_page import PAGE_FORMS
from tests.factories import CommitmentFactory
from tests.html_ids import assert_ids_sound

pytestmark = pytest.mark.django_db


def test_every_side_form_and_new_date_form_open_at_once_share_no_id(browser, owner, project, contact):
    commitments = CommitmentFactory.create_batch(2, project=project)
    page = browser(owner)
    url = reverse("dashboard:project", args=[project.pk])

    # What the browser holds once every side form has been opened into the page.
    whole = page.get(url).content.decode() + "".join(
        page.get(f"{url}?form={name}", headers={"HX-Request": "true"}).content.decode() for name in PAGE_FORMS
    )

    ids = assert_ids_sound(whole).ids
    assert {"id_touchpoint_contact", "id_status_link_contact", "id_survey_contact"} <= set(ids)
    assert {f"id_renegotiate_{c.pk}_reason" for c in commitments} <= set(ids)


def test_a_field_error_is_the_message_its_field_is_described_by(browser, owner, project):
    url = reverse("dashboard:project-action", args=[project.pk, "touchpoint"])

    response = browser(owner).post(url, {"channel": "call", "occurred_at": "not a date", "summary": "x"})

    assert response.status_code == 400
    page = assert_ids_sound(response.content.decode())
    assert "id_touchpoint_occurred_at_error" in page.described_by


def test_a_new_date_error_is_described_on_its_own_commitment(browser, owner, project):
    other, refused = CommitmentFactory.create_batch(2, project=project)
    new_due = timezone.localtime() + timedelta(days=20)

    response = browser(owner).post(
        reverse("dashboard:commitment-action", args=[refused.pk, "renegotiate"]),
        {"new_due_at": new_due.strftime("%Y-%m-%dT%H:%M"), "reason": ""},
    )

    assert response.status_code == 400
    page = assert_ids_sound(response.content.decode())
    assert page.described_by == [f"id_renegotiate_{refused.pk}_reason_error"]
    assert f"id_renegotiate_{other.pk}_reason" in page.ids
