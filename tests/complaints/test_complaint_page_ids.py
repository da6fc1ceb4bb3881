"""The complaint page holds many forms sharing field names (owner, reason, outcome...): every
field has an id of its own, and help texts and errors named by aria-describedby exist."""

import pytest
from django.urls import reverse

from tests.html_ids import assert_ids_sound

pytestmark = pytest.mark.django_db


def html_of(client, user, complaint):
    client.force_login(user)
    response = client.get(reverse("complaints:detail", args=[complaint.pk]))
    assert response.status_code == 200
    return response.content.decode()


def test_an_open_complaints_forms_share_no_id(client, acknowledged, teammate):
    ids = assert_ids_sound(html_of(client, teammate, acknowledged)).ids

    assert {"id_assign_owner", "id_add_action_owner", "id_extend_reason", "id_pause-reason"} <= set(ids)
    assert "id_owner" not in ids and "id_reason" not in ids


def test_a_resolved_complaints_forms_and_each_follow_up_form_share_no_id(client, resolved, teammate):
    visits = list(resolved.followups.all())
    assert len(visits) == 2

    ids = assert_ids_sound(html_of(client, teammate, resolved)).ids

    assert {f"id_followup_{visit.pk}_outcome" for visit in visits} <= set(ids)
    assert {"id_close_reason", "id_reopen-reason", "id_publish_summary_zh"} <= set(ids)


def test_a_refused_step_keeps_the_ids_sound_and_its_error_named(client, acknowledged, teammate):
    client.force_login(teammate)

    response = client.post(reverse("complaints:action", args=[acknowledged.pk, "extend"]), {"reason": ""})

    assert response.status_code == 400
    page = assert_ids_sound(response.content.decode())
    assert page.described_by.count("id_extend_reason_error") == 1


def test_a_refused_follow_up_is_shown_on_its_own_visit(client, resolved, teammate):
    first, second = resolved.followups.order_by("due_at")
    client.force_login(teammate)

    response = client.post(
        reverse("complaints:followup-done", args=[resolved.pk, second.pk]), {"outcome": ""}
    )

    assert response.status_code == 400
    page = assert_ids_sound(response.content.decode())
    assert [d for d in page.described_by if d.endswith("_error")] == [
        f"id_followup_{second.pk}_outcome_error"
    ]
    assert f"id_followup_{first.pk}_outcome" in page.ids
