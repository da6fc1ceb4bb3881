"""In a real browser: a complaint the client raised is acknowledged by the team manager, gets a
recovery action, is resolved with a recorded response and closed on the client's confirmation;
the client's own link shows each step."""

import re

import pytest

from complaints import services
from complaints.models import ComplaintLink, Status
from finance_projects.tokens import hash_token
from tests.e2e.browser import ARTIFACTS
from tests.factories import ensure_sla_policies


@pytest.mark.browser
def test_a_client_complaint_is_taken_through_recovery_to_closure(
    live_server, transactional_db, browser_page, manager, owner, project, contact
):
    ensure_sla_policies()
    complaint = services.complaint_raise_from_client(
        project=project,
        contact=contact,
        description="说好的放款日期又推迟了，没有人通知我们。",
        channel="status_page",
    )
    token = "e2e-" + "k" * 40
    ComplaintLink.objects.create(
        complaint=complaint,
        token_hash=hash_token(token),
        expires_at=complaint.ack_due_at + (complaint.resolve_due_at - complaint.received_at),
    )
    page = browser_page
    errors = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)

    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", "manager")
    page.fill("#id_password", "pass-word-123")
    with page.expect_navigation():
        page.click("main form button[type=submit]")

    page.goto(f"{live_server.url}/complaints/")
    page.click(f"text={complaint.reference}")
    page.wait_for_url(re.compile(rf"/complaints/{complaint.pk}/$"))

    with page.expect_navigation():
        page.click("#actions form[action$='/acknowledge/'] button")
    page.select_option("#action-form select[name=kind]", "expedite")
    page.fill(
        "#action-form textarea[name=description]", "Ask credit approval to confirm the drawdown date today."
    )
    page.select_option("#action-form select[name=owner]", str(manager.pk))
    page.fill("#action-form input[name=due_at]", "2099-01-01T10:00")
    with page.expect_navigation():
        page.click("#action-form button[type=submit]")
    assert "Ask credit approval" in page.inner_text("#recovery-actions")
    with page.expect_navigation():
        page.click("#recovery-actions button")

    # Resolving without a response is refused and names the field.
    page.select_option("#resolve-form select[name=root_cause]", "internal_communication")
    with page.expect_navigation():
        page.click("#resolve-form button[type=submit]")
    assert "Record the response given to the client" in page.content()
    page.fill(
        "#resolve-form textarea[name=response_text]", "The drawdown is confirmed for Monday; we apologise."
    )
    page.select_option("#resolve-form select[name=root_cause]", "internal_communication")
    with page.expect_navigation():
        page.click("#resolve-form button[type=submit]")
    page.screenshot(path=str(ARTIFACTS / "complaint-resolved.png"), full_page=True)

    page.check("#close-form input[name=client_confirmed]")
    with page.expect_navigation():
        page.click("#close-form button[type=submit]")
    assert "Timeline" in page.content()

    complaint.refresh_from_db()
    assert complaint.status == Status.CLOSED
    assert complaint.client_confirmed
    assert complaint.followups.count() == 2
    assert complaint.actions.get().done_at is not None

    page.goto(f"{live_server.url}/c/{token}/")
    assert complaint.reference in page.content()
    assert "We apologise" in page.content() or "apologise" in page.content()
    page.screenshot(path=str(ARTIFACTS / "complaint-client-page.png"), full_page=True)
    assert not [text for text in errors if "Content Security Policy" in text], errors
