"""The e-mails a client gets about their complaint are signed with the bank's name, in the
client's language."""

import pytest
from django.core import mail

from complaints import services

pytestmark = pytest.mark.django_db


def resolve(acknowledged, teammate, django_capture_on_commit_callbacks):
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.complaint_resolve(
            complaint=acknowledged,
            by=teammate,
            response_text="We apologise; the committee meets on 9 March.",
            response_channel="email",
            root_cause="internal_communication",
        )
    [message] = [m for m in mail.outbox if m.to == [acknowledged.contact.email]]
    return message


@pytest.mark.parametrize(("language", "closing"), [("en", "Yours sincerely,"), ("zh-hans", "此致")])
def test_the_decision_email_is_signed_with_the_bank_in_the_clients_language(
    acknowledged, teammate, contact, language, closing, settings, django_capture_on_commit_callbacks
):
    settings.FEEDBACK = {"BANK_NAME": "Bank of Tomorrow"}
    contact.language = language
    contact.save(update_fields=["language"])

    message = resolve(acknowledged, teammate, django_capture_on_commit_callbacks)

    assert message.body.rstrip().endswith(f"{closing}\nBank of Tomorrow")
    assert f"{closing}<br>Bank of Tomorrow" in message.alternatives[0][0]


def test_with_no_bank_name_configured_the_signature_reads_project_finance(
    acknowledged, teammate, contact, django_capture_on_commit_callbacks
):
    contact.language = "en"
    contact.save(update_fields=["language"])

    message = resolve(acknowledged, teammate, django_capture_on_commit_callbacks)

    assert message.body.rstrip().endswith("Yours sincerely,\nProject Finance")
