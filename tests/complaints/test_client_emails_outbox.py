"""The e-mails to a client about their complaint are stored with the change they tell of and sent
after its commit: a mail server that does not answer never fails the change, and the SLA beat
sends what it left, once."""

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.core.mail import EmailMultiAlternatives
from django.urls import reverse
from django.utils import timezone

from complaints import emails, services, tasks
from complaints.models import ClientEmail, ComplaintLink
from finance_projects.services import status_link_create
from tests.factories import UserFactory
from tests.threads import at_once

pytestmark = pytest.mark.django_db

CONCERN = "Nobody has told us why the drawdown slipped again."


@pytest.fixture
def mail_server_down(monkeypatch):
    """The mail server refuses every message until `mail_server_down.undo()`."""

    def refuse(message, *args, **kwargs):
        raise ConnectionRefusedError("mail relay down")

    monkeypatch.setattr(EmailMultiAlternatives, "send", refuse)
    return monkeypatch


def client_mail(contact):
    return [message for message in mail.outbox if message.to == [contact.email]]


def test_a_concern_sent_while_the_mail_server_is_down_is_recorded_and_its_email_kept(
    client, project, contact, owner, mail_server_down, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(tasks.notify_staff_of_client_complaint, "delay", lambda complaint_id: None)
    _link, token = status_link_create(project=project, contact=contact, created_by=owner, days=30)

    with django_capture_on_commit_callbacks(execute=True):
        sent = client.post(f"/p/{token}/", {"description": CONCERN, "lang": "en"})

    assert sent.status_code == 302  # the client's page, not an error
    complaint = project.complaints.get()
    email = ClientEmail.objects.get(complaint=complaint)
    assert (email.kind, email.to) == ("complaint-received", contact.email)
    assert (email.sent_at, email.attempts) == (None, 1)
    assert complaint.reference in email.subject
    assert ClientEmail.LINK_PLACEHOLDER in email.body and "/c/" not in email.body + email.html
    assert email.last_error == "ConnectionRefusedError"  # the type: a relay's text may quote the link


def test_the_client_gets_a_working_personal_link_issued_when_the_email_is_sent(
    client, project, contact, mail_server_down, eager_celery
):
    complaint = services.complaint_raise_from_client(project=project, contact=contact, description=CONCERN)
    mail_server_down.undo()

    assert emails.deliver_client_emails() == 1

    [sent] = client_mail(contact)
    [link] = re.findall(r"https?://\S+/c/[^/\s]+/", sent.body)
    assert link in sent.alternatives[0].content
    assert client.get(link[link.index("/c/") :]).status_code == 200
    stored = ClientEmail.objects.get(complaint=complaint)
    assert link not in stored.body + stored.html  # only the link's hash is kept


def test_an_email_whose_sender_died_mid_send_is_sent_once_its_claim_lapses(acknowledged, contact):
    email = ClientEmail.objects.get(complaint=acknowledged)  # told at the acknowledgement, not sent
    mail.outbox.clear()
    just_now = timezone.now()
    ClientEmail.objects.filter(pk=email.pk).update(claimed_at=just_now)
    assert emails.deliver_client_emails(at=just_now + timedelta(seconds=60)) == 0  # still being sent

    lapsed = just_now + timedelta(seconds=ClientEmail.CLAIM_SECONDS + 1)
    assert emails.deliver_client_emails(at=lapsed) == 1
    assert emails.deliver_client_emails(at=lapsed) == 0
    assert len(client_mail(contact)) == 1


def test_a_run_stops_at_the_first_failure_and_tries_the_least_tried_first(
    acknowledged, teammate, mail_server_down, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        services.complaint_extend(complaint=acknowledged, by=teammate, reason="Needs the file.")
    oldest = ClientEmail.objects.order_by("created_at", "pk").first()
    ClientEmail.objects.filter(pk=oldest.pk).update(attempts=5)  # one the relay keeps refusing
    before = dict(ClientEmail.objects.values_list("pk", "attempts"))

    assert emails.deliver_client_emails() == 0

    after = dict(ClientEmail.objects.values_list("pk", "attempts"))
    assert sum(after.values()) == sum(before.values()) + 1  # one try, not one per e-mail
    assert after[oldest.pk] == 5  # the newer, less tried one went first: no e-mail blocks the rest


def test_a_link_issued_for_an_email_that_was_not_sent_opens_nothing(
    client, project, contact, mail_server_down, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        complaint = services.complaint_raise_from_client(project=project, contact=contact, description="Late")

    links = ComplaintLink.objects.filter(complaint=complaint)
    assert links.count() == 1 and links.get().revoked_at is not None


def test_an_email_goes_to_the_contacts_address_as_corrected_since(acknowledged, contact):
    contact.email = "corrected@client.example"
    contact.save()
    mail.outbox.clear()

    emails.deliver_client_emails()

    assert [message.to for message in mail.outbox] == [["corrected@client.example"]]
    assert ClientEmail.objects.get(complaint=acknowledged).to == "corrected@client.example"


def test_a_staff_action_that_emails_the_client_succeeds_while_the_mail_server_is_down(
    acknowledged, teammate, mail_server_down, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        extended = services.complaint_extend(complaint=acknowledged, by=teammate, reason="Needs the file.")

    assert extended.extension_count == 1
    assert ClientEmail.objects.filter(kind="complaint-extended", sent_at__isnull=True).count() == 1


def test_the_sla_beat_sends_the_client_emails_left_unsent_once(
    acknowledged, contact, teammate, mail_server_down, eager_celery, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        services.complaint_extend(complaint=acknowledged, by=teammate, reason="Needs the credit file.")
    mail_server_down.undo()
    mail.outbox.clear()
    left = sorted(ClientEmail.objects.filter(sent_at__isnull=True).values_list("subject", flat=True))
    assert ClientEmail.objects.get(kind="complaint-extended").subject in left

    tasks.run_sla_scans.delay()
    tasks.run_sla_scans.delay()

    assert sorted(message.subject for message in client_mail(contact)) == left
    assert {message.alternatives[0].mimetype for message in client_mail(contact)} == {"text/html"}
    assert ClientEmail.objects.filter(sent_at__isnull=True).count() == 0


def test_an_email_the_mail_server_keeps_refusing_is_given_up_after_its_attempts(
    acknowledged, teammate, mail_server_down, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        services.complaint_extend(complaint=acknowledged, by=teammate, reason="Needs the credit file.")
    email = ClientEmail.objects.get(kind="complaint-extended")

    waiting = ClientEmail.objects.filter(sent_at__isnull=True).count()  # each run tries one
    for _ in range(ClientEmail.MAX_ATTEMPTS * waiting):
        emails.deliver_client_emails()

    email.refresh_from_db()
    assert (email.sent_at, email.attempts) == (None, ClientEmail.MAX_ATTEMPTS)
    mail_server_down.undo()
    assert emails.deliver_client_emails() == 0  # left for someone to look at, not retried forever


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_workers_at_once_send_a_client_email_once(acknowledged, contact, teammate, mail_server_down):
    services.complaint_extend(complaint=acknowledged, by=teammate, reason="Needs the credit file.")
    mail_server_down.undo()
    mail.outbox.clear()

    results, errors = at_once(emails.deliver_client_emails)

    assert errors == []
    assert sorted(results) == [0, 1]
    assert len(client_mail(contact)) == 1


def test_an_administrator_can_try_a_given_up_email_again_from_the_admin(
    admin_client,
    acknowledged,
    contact,
    teammate,
    mail_server_down,
    eager_celery,
    django_capture_on_commit_callbacks,
):
    with django_capture_on_commit_callbacks(execute=True):
        services.complaint_extend(complaint=acknowledged, by=teammate, reason="Needs the file.")
    given_up = ClientEmail.objects.filter(sent_at__isnull=True)
    given_up.update(attempts=ClientEmail.MAX_ATTEMPTS)
    subjects = sorted(given_up.values_list("subject", flat=True))
    mail_server_down.undo()
    mail.outbox.clear()

    listed = admin_client.get("/admin/complaints/clientemail/?sent=no")
    done = admin_client.post(
        "/admin/complaints/clientemail/",
        {"action": "try_again", "_selected_action": list(given_up.values_list("pk", flat=True))},
        follow=True,
    )

    assert subjects[0] in listed.content.decode()
    assert "2 unsent e-mails will be sent again shortly." in done.content.decode()
    assert sorted(message.subject for message in client_mail(contact)) == subjects  # by the worker
    assert not ClientEmail.objects.filter(sent_at__isnull=True).exists()


def test_the_admin_filters_client_emails_by_what_they_tell_in_words(
    admin_client, acknowledged, teammate, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        services.complaint_extend(complaint=acknowledged, by=teammate, reason="Needs the file.")

    listed = admin_client.get("/admin/complaints/clientemail/", {"kind__exact": "complaint-extended"})

    page = listed.content.decode()
    assert ">Deadline extended</a>" in page and ">Complaint received</a>" in page
    assert "complaint-extended</a>" not in page  # the template's name is not what a reader sees
    assert list(listed.context["cl"].queryset.values_list("kind", flat=True)) == ["complaint-extended"]


def test_a_mail_server_that_hangs_is_given_up_after_a_timeout():
    from django.core.mail.backends.smtp import EmailBackend

    assert 0 < EmailBackend().timeout <= 30  # seconds (EMAIL_TIMEOUT); the beat tries again later


def test_only_an_administrator_may_send_again_what_was_given_up(client, acknowledged, team):
    from django.contrib.auth.models import Permission

    staff = UserFactory(username="ops", is_staff=True, role="manager", team=team)
    staff.user_permissions.add(Permission.objects.get(codename="view_clientemail"))
    email = ClientEmail.objects.get(complaint=acknowledged)
    client.force_login(staff)
    mail.outbox.clear()

    listed = client.get("/admin/complaints/clientemail/")
    action = {"action": "try_again", "_selected_action": [email.pk]}
    refused = client.post("/admin/complaints/clientemail/", action)

    assert listed.status_code == 200 and "try_again" not in listed.content.decode()
    assert refused.status_code in (200, 302) and mail.outbox == []
    email.refresh_from_db()
    assert email.sent_at is None


def test_the_complaint_page_says_which_client_emails_are_not_sent_yet(
    client, acknowledged, teammate, mail_server_down, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        services.complaint_extend(complaint=acknowledged, by=teammate, reason="Needs the file.")
    email = ClientEmail.objects.get(kind="complaint-extended")
    client.force_login(teammate)
    url = reverse("complaints:detail", args=[acknowledged.pk])

    waiting = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    ClientEmail.objects.filter(pk=email.pk).update(attempts=ClientEmail.MAX_ATTEMPTS)
    given_up = client.get(url, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    mail_server_down.undo()
    emails.client_emails_try_again([email.pk])
    emails.deliver_client_emails()
    ClientEmail.objects.filter(sent_at__isnull=True).exclude(pk=email.pk).update(sent_at=email.created_at)
    sent = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert "Not sent to the client yet" in waiting and "tried again automatically" in waiting
    assert email.subject in waiting
    assert "尚未发给客户" in given_up and "不再自动重试" in given_up
    assert 'id="unsent-client-emails"' not in sent
