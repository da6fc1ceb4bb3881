"""An RM sends a survey from the project page's side form, with the rules and the permission of
`POST /api/v1/survey-invitations/`: the contact gets the personal link by e-mail, the page never
shows it; a send the rules hold back, or bad input, comes back on its field, as typed, unsaved."""

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from feedback import services as feedback_services
from feedback.models import InvitationLink, SurveyInvitation, SurveySkip
from tests.factories import (
    CommitmentFactory,
    ContactFactory,
    InvitationFactory,
    QuestionFactory,
    SurveyFactory,
    shipped_survey,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english(settings):
    settings.LANGUAGE_CODE = "en"


@pytest.fixture
def relationship_survey():
    return shipped_survey("relationship")


def send_url(project):
    return reverse("dashboard:project-action", args=[project.pk, "survey"])


def project_url(project):
    return reverse("dashboard:project", args=[project.pk])


def post(client, user, project, data):
    client.force_login(user)
    return client.post(send_url(project), data, HTTP_ACCEPT_LANGUAGE="en")


def field_error(body, name):
    match = re.search(rf'<div class="error" id="id_survey_{name}_error" role="alert">(.*?)</div>', body, re.S)
    return match.group(1) if match else None


def textarea(body, name):
    match = re.search(rf'<textarea name="{name}"[^>]*>(.*?)</textarea>', body, re.S)
    return match.group(1).strip() if match else None


def selected(body, name):
    """The value chosen in the select `name`, as the page shows it."""
    select = re.search(rf'<select name="{name}"[^>]*>(.*?)</select>', body, re.S)
    assert select is not None, name
    chosen = re.findall(r'<option value="([^"]*)" selected>', select.group(1))
    return chosen[0] if chosen else None


# --- Sending ---------------------------------------------------------------------------------


def test_an_rm_sends_a_survey_and_the_contact_gets_it_by_email(
    client, owner, project, contact, relationship_survey, eager_celery, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = post(
            client,
            owner,
            project,
            {"contact": contact.pk, "survey": relationship_survey.pk, "reason": "Quarterly check"},
        )

    assert response.status_code == 302
    assert response["Location"] == project_url(project)
    invitation = SurveyInvitation.objects.get(project=project)
    assert invitation.contact == contact and invitation.survey == relationship_survey
    assert invitation.trigger == "manual" and invitation.created_by == owner
    assert invitation.reason == "Quarterly check"
    assert InvitationLink.objects.filter(invitation=invitation).exists()  # issue_link, as the API
    # The delivery task e-mailed the invitation, personal link included.
    assert [message.to for message in mail.outbox] == [[contact.email]]
    assert "/s/" in mail.outbox[0].body
    invitation.refresh_from_db()
    assert invitation.sent_at is not None


def test_the_page_says_to_whom_it_went_and_never_shows_the_personal_link(
    client, owner, project, contact, relationship_survey
):
    response = post(client, owner, project, {"contact": contact.pk, "survey": relationship_survey.pk})

    body = client.get(response["Location"], HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert "Survey sent to Li Wei." in body
    assert "/s/" not in body


def test_the_reason_is_optional(client, owner, project, contact, relationship_survey):
    response = post(client, owner, project, {"contact": contact.pk, "survey": relationship_survey.pk})

    assert response.status_code == 302
    assert SurveyInvitation.objects.get(project=project).reason == ""


def test_a_custom_or_milestone_survey_can_be_sent(client, owner, project, client_org):
    custom = SurveyFactory(kind="custom", name_en="Credit approval pulse")
    QuestionFactory(survey=custom)
    first, second = ContactFactory(client=client_org), ContactFactory(client=client_org)

    assert post(client, owner, project, {"contact": first.pk, "survey": custom.pk}).status_code == 302
    milestone = shipped_survey("milestone")
    assert post(client, owner, project, {"contact": second.pk, "survey": milestone.pk}).status_code == 302
    assert set(SurveyInvitation.objects.values_list("survey__kind", flat=True)) == {"custom", "milestone"}


# --- The form --------------------------------------------------------------------------------


def test_the_form_opens_with_the_clients_contacts_and_the_active_surveys(
    client, owner, project, contact, relationship_survey
):
    SurveyFactory(kind="custom", name_en="Retired pulse", is_active=False)
    stranger = ContactFactory(name="Somebody Else")
    client.force_login(owner)
    url = project_url(project)

    whole = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    opened = client.get(f"{url}?form=survey", headers={"HX-Request": "true"}, HTTP_ACCEPT_LANGUAGE="en")
    body = opened.content.decode()

    assert f'hx-get="{url}?form=survey"' in whole and 'id="send-survey"' in whole
    assert opened.status_code == 200 and "<html" not in body
    assert f'action="{send_url(project)}"' in body
    assert "Li Wei" in body and stranger.name not in body
    assert "Relationship survey" in body and "Milestone survey" in body
    assert "Recovery survey" not in body and "Retired pulse" not in body
    assert 'name="reason"' in body and 'maxlength="300"' in body


def test_the_form_opens_in_the_page_without_javascript(client, owner, project):
    client.force_login(owner)

    body = client.get(f"{project_url(project)}?form=survey").content.decode()

    assert "<html" in body and '<select name="survey"' in body


def test_department_staff_are_not_offered_the_form_and_cannot_send(
    client, department_user, project, contact, relationship_survey
):
    CommitmentFactory(project=project, owner=department_user)
    client.force_login(department_user)
    url = project_url(project)

    page = client.get(url)
    assert page.status_code == 200 and "?form=survey" not in page.content.decode()
    assert client.get(f"{url}?form=survey").status_code == 403
    response = post(
        client, department_user, project, {"contact": contact.pk, "survey": relationship_survey.pk}
    )

    assert response.status_code == 403
    assert not SurveyInvitation.objects.exists()


def test_an_outsider_gets_404_and_sends_nothing(client, outsider, project, contact, relationship_survey):
    response = post(client, outsider, project, {"contact": contact.pk, "survey": relationship_survey.pk})

    assert response.status_code == 404
    assert not SurveyInvitation.objects.exists()


def test_sending_needs_a_login_and_a_post(client, owner, project, contact, relationship_survey):
    anonymous = client.post(send_url(project), {"contact": contact.pk, "survey": relationship_survey.pk})
    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]
    client.force_login(owner)
    assert client.get(send_url(project)).status_code == 405
    assert not SurveyInvitation.objects.exists()


# --- Held back by the rules ----------------------------------------------------------------------


def test_a_recently_surveyed_contact_is_refused_on_the_contact_field_keeping_what_was_typed(
    client, owner, project, contact, relationship_survey
):
    InvitationFactory(project=project, contact=contact, created_at=timezone.now() - timedelta(days=3))

    response = post(
        client,
        owner,
        project,
        {"contact": contact.pk, "survey": relationship_survey.pk, "reason": "After the credit committee"},
    )

    body = response.content.decode()
    assert response.status_code == 400
    assert field_error(body, "contact").startswith(
        "Contact was surveyed recently: they can be surveyed again"
    )
    assert selected(body, "contact") == str(contact.pk)
    assert selected(body, "survey") == str(relationship_survey.pk)
    assert textarea(body, "reason") == "After the credit committee"
    assert '<section class="card" id="send-survey"><details class="side-form" open>' in body
    assert SurveyInvitation.objects.filter(contact=contact).count() == 1  # only the earlier one
    assert "Survey sent to" not in body


@pytest.mark.parametrize(
    ("change", "reason"),
    [({"opted_out": True}, "Contact opted out of surveys"), ({"email": ""}, "Contact has no email address")],
)
def test_a_contact_the_rules_hold_back_is_refused_with_the_reason(
    client, owner, project, contact, relationship_survey, change, reason
):
    for name, value in change.items():
        setattr(contact, name, value)
    contact.save()

    response = post(client, owner, project, {"contact": contact.pk, "survey": relationship_survey.pk})

    assert response.status_code == 400
    assert field_error(response.content.decode(), "contact") == reason
    assert not SurveyInvitation.objects.exists()
    assert SurveySkip.objects.get().reason in ("opted_out", "no_email")  # recorded, as every skip


# --- Bad input -----------------------------------------------------------------------------------


def test_a_contact_of_another_client_is_refused_on_its_field(client, owner, project, relationship_survey):
    stranger = ContactFactory()

    response = post(client, owner, project, {"contact": stranger.pk, "survey": relationship_survey.pk})

    assert response.status_code == 400
    assert field_error(response.content.decode(), "contact") is not None
    assert not SurveyInvitation.objects.exists()


@pytest.mark.parametrize("which", ["inactive", "recovery", "missing"])
def test_a_survey_that_cannot_be_sent_by_hand_is_refused_on_its_field(client, owner, project, contact, which):
    survey_id = {
        "inactive": lambda: SurveyFactory(kind="custom", is_active=False).pk,
        "recovery": lambda: shipped_survey("recovery").pk,
        "missing": lambda: "",
    }[which]()

    response = post(client, owner, project, {"contact": contact.pk, "survey": survey_id})

    assert response.status_code == 400
    assert field_error(response.content.decode(), "survey") is not None
    assert not SurveyInvitation.objects.exists()


def test_a_reason_longer_than_300_characters_is_refused_on_its_field(
    client, owner, project, contact, relationship_survey
):
    response = post(
        client, owner, project, {"contact": contact.pk, "survey": relationship_survey.pk, "reason": "x" * 301}
    )

    body = response.content.decode()
    assert response.status_code == 400
    assert "at most 300 characters" in field_error(body, "reason")
    assert textarea(body, "reason") == "x" * 301
    assert not SurveyInvitation.objects.exists()


def test_the_services_errors_go_to_the_fields_they_name(
    client, owner, project, contact, relationship_survey, monkeypatch
):
    def refuse(**kwargs):
        raise ValidationError({"survey": ["This survey is not active."], "__all__": ["Try again later."]})

    monkeypatch.setattr(feedback_services, "survey_send", refuse)

    response = post(client, owner, project, {"contact": contact.pk, "survey": relationship_survey.pk})

    body = response.content.decode()
    assert response.status_code == 400
    assert field_error(body, "survey") == "This survey is not active."
    assert '<div class="error" role="alert">Try again later.</div>' in body
    assert not SurveyInvitation.objects.exists()
