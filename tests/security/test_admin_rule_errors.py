"""A business rule the service refuses when the admin saves is shown on the form, not a 500.

The admin judges its form valid, then `save_model` calls the service, which may still refuse
(a touchpoint in the future, a commitment already fulfilled, an inactive relationship manager).
The page comes back with the service's own message on the field at fault (or above the form
when the form has no such field), the typed input kept, and nothing saved. Admin actions report
a refused row as an error message and go on with the others."""

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone

from feedback.models import SurveyInvitation
from finance_projects import services
from finance_projects.models import Client, Commitment, FinancingProject, Touchpoint
from tests.factories import AlertFactory, ClientFactory, CommitmentFactory, ContactFactory
from tests.factories.feedback import shipped_survey

pytestmark = pytest.mark.django_db

OUR_APPS = {"accounts", "finance_projects", "feedback", "complaints", "digests", "dashboard"}
SAVE_HOOKS = {"save_model", "save_related", "save_formset"}


@pytest.fixture
def staff(client, admin_user):
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    client.force_login(admin_user)
    return client


def split(name, moment):
    """The admin's two boxes (date, time) for one date-time, in the superuser's zone."""
    local = timezone.localtime(moment, ZoneInfo("Asia/Shanghai"))
    return {f"{name}_0": local.strftime("%Y-%m-%d"), f"{name}_1": local.strftime("%H:%M:%S")}


def no_inlines(*prefixes):
    return {f"{prefix}-{key}": 0 for prefix in prefixes for key in ("TOTAL_FORMS", "INITIAL_FORMS")}


def form_of(response):
    assert response.status_code == 200, response.status_code
    return response.context["adminform"].form


def field_errors(response, field):
    return list(form_of(response).errors.get(field, []))


def form_wide_errors(response):
    return list(form_of(response).non_field_errors())


# --- touchpoints ---------------------------------------------------------------------------


def touchpoint_data(project, contact, *, at=None, **changes):
    return {
        "project": project.pk,
        "contact": contact.pk,
        "channel": "call",
        **split("occurred_at", at or timezone.now() - timedelta(hours=1)),
        "summary": "Called the CFO.",
        "is_client_update": "on",
        **changes,
    }


def test_a_touchpoint_in_the_future_is_refused_on_its_time_field(staff, project, contact):
    response = staff.post(
        reverse("admin:finance_projects_touchpoint_add"),
        touchpoint_data(project, contact, at=timezone.now() + timedelta(days=2)),
    )

    assert field_errors(response, "occurred_at") == ["A touchpoint cannot be in the future."]
    page = response.content.decode()
    assert 'class="errornote"' in page and "A touchpoint cannot be in the future." in page
    assert "Called the CFO." in page  # what was typed is kept
    assert not Touchpoint.objects.exists()
    project.refresh_from_db()
    assert project.last_client_update_at is None
    assert not LogEntry.objects.exists()


def test_a_touchpoint_with_another_clients_contact_is_refused_on_the_contact(staff, project):
    stranger = ContactFactory()

    response = staff.post(
        reverse("admin:finance_projects_touchpoint_add"), touchpoint_data(project, stranger)
    )

    assert field_errors(response, "contact") == ["This contact belongs to another client."]
    assert not Touchpoint.objects.exists()


def test_the_refusal_is_shown_in_the_admins_language(staff, project, contact):
    response = staff.post(
        reverse("admin:finance_projects_touchpoint_add"),
        touchpoint_data(project, contact, at=timezone.now() + timedelta(days=2)),
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    )

    assert field_errors(response, "occurred_at") == ["客户接触时间不能晚于当前时间。"]


def test_a_valid_touchpoint_is_still_logged_through_the_service(staff, project, contact, admin_user):
    response = staff.post(reverse("admin:finance_projects_touchpoint_add"), touchpoint_data(project, contact))

    assert response.status_code == 302
    touchpoint = Touchpoint.objects.get()
    assert touchpoint.logged_by == admin_user
    project.refresh_from_db()
    assert project.last_client_update_at == touchpoint.occurred_at


# --- commitments ---------------------------------------------------------------------------


def commitment_data(project, owner, *, due_at=None, **changes):
    return {
        "project": project.pk,
        "title": "Send the term sheet",
        "description": "",
        "kind": "document",
        "owner": owner.pk,
        "department": "",
        **split("due_at", due_at or timezone.now() + timedelta(days=3)),
        **changes,
    }


def test_a_new_commitment_already_due_is_refused_on_its_due_date(staff, project, owner):
    response = staff.post(
        reverse("admin:finance_projects_commitment_add"),
        commitment_data(project, owner, due_at=timezone.now() - timedelta(days=1)),
    )

    assert field_errors(response, "due_at") == ["A new commitment must be due in the future."]
    assert not Commitment.objects.exists()


def test_a_commitment_on_a_closed_project_is_refused_on_the_project(staff, project, owner):
    FinancingProject.objects.filter(pk=project.pk).update(status="closed")

    response = staff.post(reverse("admin:finance_projects_commitment_add"), commitment_data(project, owner))

    assert field_errors(response, "project") == ["The project is closed."]
    assert not Commitment.objects.exists()


def test_a_commitment_handed_to_an_inactive_user_is_refused_on_the_owner(staff, project, owner, teammate):
    commitment = CommitmentFactory(project=project, owner=owner)
    teammate.is_active = False
    teammate.save()

    response = staff.post(
        reverse("admin:finance_projects_commitment_change", args=[commitment.pk]),
        {"title": "Reworded", "description": "", "kind": "document", "owner": teammate.pk, "department": ""},
    )

    assert field_errors(response, "owner") == ["This user is no longer active."]
    commitment.refresh_from_db()
    assert (commitment.title, commitment.owner) != ("Reworded", teammate)
    assert commitment.owner == owner


def test_saving_a_commitment_fulfilled_meanwhile_says_so_above_the_form(staff, project):
    commitment = CommitmentFactory(project=project)
    services.commitment_fulfil(commitment=commitment, by=project.relationship_manager)

    response = staff.post(reverse("admin:finance_projects_commitment_change", args=[commitment.pk]), {})

    assert form_wide_errors(response) == ["This commitment is already Fulfilled."]
    assert commitment.history.count() == 2  # created, fulfilled: nothing written by the save


def test_the_fulfil_action_reports_a_commitment_closed_meanwhile_and_fulfils_the_others(
    staff, project, monkeypatch
):
    first, second = CommitmentFactory(project=project), CommitmentFactory(project=project)
    fulfil = services.commitment_fulfil

    def someone_else_cancels_the_second_first(*, commitment, by, **kwargs):
        if commitment.pk == first.pk:
            services.commitment_cancel(commitment=second, reason="Client withdrew", by=by)
        return fulfil(commitment=commitment, by=by, **kwargs)

    monkeypatch.setattr(services, "commitment_fulfil", someone_else_cancels_the_second_first)

    page = staff.post(
        reverse("admin:finance_projects_commitment_changelist"),
        {"action": "fulfil", "_selected_action": [first.pk, second.pk]},
        follow=True,
    )

    shown = [str(message) for message in page.context["messages"]]
    assert any("This commitment is already Cancelled." in message for message in shown), shown
    assert "1 commitment fulfilled." in shown
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, second.status) == ("fulfilled", "cancelled")


# --- clients and projects ------------------------------------------------------------------


def test_a_second_client_of_the_same_name_in_a_team_is_refused_on_the_name(staff, client_org, owner):
    response = staff.post(
        reverse("admin:finance_projects_client_add"),
        {
            "name": client_org.name,
            "industry": "",
            "region": "",
            "relationship_manager": owner.pk,
            **no_inlines("contacts"),
        },
    )

    assert field_errors(response, "name") == ["The team already has a client with this name."]
    assert Client.objects.count() == 1


def test_renaming_a_client_to_a_teammates_clients_name_is_refused_on_the_name(staff, client_org, owner):
    other = ClientFactory(relationship_manager=owner, team=owner.team, name="Other Energy")

    response = staff.post(
        reverse("admin:finance_projects_client_change", args=[other.pk]),
        {
            "name": client_org.name,
            "industry": "",
            "region": "",
            "relationship_manager": owner.pk,
            **no_inlines("contacts"),
        },
    )

    assert field_errors(response, "name") == ["The team already has a client with this name."]
    other.refresh_from_db()
    assert other.name == "Other Energy"


def test_a_client_for_an_inactive_relationship_manager_is_refused_on_the_manager(staff, teammate):
    teammate.is_active = False
    teammate.save()

    response = staff.post(
        reverse("admin:finance_projects_client_add"),
        {
            "name": "Fresh Wind Ltd",
            "industry": "",
            "region": "",
            "relationship_manager": teammate.pk,
            **no_inlines("contacts"),
        },
    )

    assert field_errors(response, "relationship_manager") == ["This user is no longer active."]
    assert not Client.objects.filter(name="Fresh Wind Ltd").exists()


def project_data(client_org, manager, **changes):
    return {
        "client": client_org.pk,
        "name": "Rudong offshore wind",
        "code": "PF-RULES-1",
        "amount": "500000000",
        "currency": "CNY",
        "status": "active",
        "relationship_manager": manager.pk,
        "update_cadence_days": 14,
        **no_inlines("transitions", "touchpoints", "commitments"),
        **changes,
    }


def test_handing_a_project_to_an_inactive_relationship_manager_is_refused_and_nothing_is_changed(
    staff, project, teammate
):
    teammate.is_active = False
    teammate.save()

    response = staff.post(
        reverse("admin:finance_projects_financingproject_change", args=[project.pk]),
        project_data(project.client, teammate, code=project.code, name="Renamed"),
    )

    assert field_errors(response, "relationship_manager") == ["This user is no longer active."]
    project.refresh_from_db()
    assert project.name != "Renamed"
    assert project.relationship_manager != teammate


def test_a_project_for_an_inactive_relationship_manager_is_refused_on_the_manager(
    staff, client_org, teammate
):
    teammate.is_active = False
    teammate.save()

    response = staff.post(
        reverse("admin:finance_projects_financingproject_add"), project_data(client_org, teammate)
    )

    assert field_errors(response, "relationship_manager") == ["This user is no longer active."]
    assert not FinancingProject.objects.filter(code="PF-RULES-1").exists()


# --- alerts --------------------------------------------------------------------------------


def test_department_staff_in_the_admin_are_told_they_cannot_reassign_an_alert(
    client, project, owner, manager, department_user
):
    department_user.is_staff = True
    department_user.save()
    department_user.user_permissions.add(
        *Permission.objects.filter(codename__in=["change_alert", "view_alert"])
    )
    alert = AlertFactory(project=project, assignee=owner)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    client.force_login(department_user)

    response = client.post(
        reverse("admin:finance_projects_alert_change", args=[alert.pk]), {"assignee": manager.pk}
    )

    assert form_wide_errors(response) == ["Department staff cannot reassign alerts."]
    alert.refresh_from_db()
    assert alert.assignee == owner


# --- survey invitations --------------------------------------------------------------------


def test_an_invitation_to_an_inactive_survey_is_refused_on_the_survey(staff, project, contact):
    survey = shipped_survey("relationship")
    survey.is_active = False
    survey.save()

    response = staff.post(
        reverse("admin:feedback_surveyinvitation_add"),
        {"project": project.pk, "contact": contact.pk, "survey": survey.pk, "reason": "Check-in"},
    )

    assert field_errors(response, "survey") == ["This survey is not active."]
    assert not SurveyInvitation.objects.exists()
    assert not LogEntry.objects.exists()  # no "added" entry for an invitation never made


# --- the mechanism itself -------------------------------------------------------------------


def test_a_permission_check_of_the_admin_itself_is_still_a_403(client, department_user, project):
    department_user.is_staff = True
    department_user.save()
    department_user.user_permissions.add(Permission.objects.get(codename="view_touchpoint"))
    client.force_login(department_user)

    response = client.post(reverse("admin:finance_projects_touchpoint_add"), {})

    assert response.status_code == 403


def test_every_admin_of_ours_that_saves_by_hand_shows_refusals_on_the_form():
    from django.contrib import admin

    from cem.admin import ServiceRulesAdminMixin

    def ours(klass):
        return klass.__module__.split(".")[0] in OUR_APPS

    saving_by_hand = [
        model_admin
        for model_admin in admin.site._registry.values()
        if any(SAVE_HOOKS & set(vars(klass)) for klass in type(model_admin).__mro__ if ours(klass))
    ]

    assert len(saving_by_hand) >= 5  # the check below sees the admins it is about
    assert [
        type(model_admin).__name__
        for model_admin in saving_by_hand
        if not isinstance(model_admin, ServiceRulesAdminMixin)
    ] == []
