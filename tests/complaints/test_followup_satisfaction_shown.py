"""A follow-up visit's answer to "is the client satisfied?" is shown on the complaint page; a
"no" is said prominently, with the reopen step the page already offers."""

import pytest
from django.urls import reverse

from complaints import services

pytestmark = pytest.mark.django_db


def visit_done(complaint, by, satisfied):
    visit = complaint.followups.order_by("due_at").first()
    return services.followup_complete(
        followup=visit, by=by, outcome="客户认为放款仍然太慢。", client_satisfied=satisfied
    )


def page(client, user, complaint):
    client.force_login(user)
    return client.get(reverse("complaints:detail", args=[complaint.pk]), HTTP_ACCEPT_LANGUAGE="en")


def test_a_client_not_satisfied_at_the_visit_is_shown_with_the_reopen_step(client, resolved, teammate):
    visit_done(resolved, teammate, satisfied=False)

    html = page(client, teammate, resolved).content.decode()

    followups = html.split('id="followups"')[1].split("</ul>")[0]
    assert "Client satisfied: no" in followups and "客户认为放款仍然太慢。" in followups
    alert = html.split('id="client-not-satisfied"')[1].split("</section>")[0]
    assert "The client is not satisfied" in alert
    assert 'href="#reopen-form"' in alert
    assert 'id="reopen-form"' in html
    assert "Follow-up visit: the client is NOT satisfied" in html.split('id="timeline"')[1]


def test_a_satisfied_client_is_shown_as_satisfied_with_no_alarm(client, resolved, teammate):
    visit_done(resolved, teammate, satisfied=True)

    html = page(client, teammate, resolved).content.decode()

    assert "Client satisfied: yes" in html.split('id="followups"')[1]
    assert 'id="client-not-satisfied"' not in html


def test_the_answer_is_shown_in_chinese(client, resolved, teammate):
    visit_done(resolved, teammate, satisfied=False)
    client.force_login(teammate)

    html = client.get(
        reverse("complaints:detail", args=[resolved.pk]), HTTP_ACCEPT_LANGUAGE="zh-hans"
    ).content.decode()

    assert "客户满意：否" in html and "客户不满意" in html


def test_a_closed_complaint_still_offers_to_reopen_and_a_reopened_one_no_longer_alarms(
    client, resolved, teammate
):
    visit_done(resolved, teammate, satisfied=False)
    services.complaint_close(complaint=resolved, by=teammate, client_confirmed=False, reason="No reply.")

    assert 'href="#reopen-form"' in page(client, teammate, resolved).content.decode()

    services.complaint_reopen(complaint=resolved, by=teammate, reason="The client is not satisfied.")
    html = page(client, teammate, resolved).content.decode()

    assert 'id="client-not-satisfied"' not in html
    assert "Client satisfied: no" in html  # the visit's answer stays on record


def test_one_who_may_not_handle_it_sees_the_answer_but_no_reopen_link(client, resolved, owner, teammate):
    visit_done(resolved, teammate, satisfied=False)

    html = page(client, owner, resolved).content.decode()  # the project's RM, not approved to handle

    assert 'id="client-not-satisfied"' in html
    assert 'href="#reopen-form"' not in html
