"""The back office: every page opens, adding goes through the services, actions apply the rules."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from finance_projects.models import Commitment, FinancingProject, StageTransition
from tests.factories import (
    AlertFactory,
    ClientFactory,
    CommitmentFactory,
    ContactFactory,
    ProjectFactory,
    TouchpointFactory,
)

MODELS = [
    "client",
    "contact",
    "stagedefinition",
    "financingproject",
    "stagetransition",
    "touchpoint",
    "commitment",
    "alert",
    "projectstatuslink",
]


@pytest.fixture
def staff(client, admin_user):
    client.force_login(admin_user)
    return client


@pytest.fixture
def filled(project, contact, owner):
    TouchpointFactory(project=project, contact=contact)
    AlertFactory(project=project)
    return CommitmentFactory(project=project)


@pytest.mark.parametrize("model", MODELS)
def test_every_list_and_search_opens_for_operations_staff(staff, filled, model):
    url = reverse(f"admin:finance_projects_{model}_changelist")

    assert staff.get(url).status_code == 200
    assert staff.get(url, {"q": "PF"}).status_code == 200


@pytest.mark.parametrize(("model", "lookup"), [("financingproject", "project"), ("commitment", "commitment")])
def test_change_and_history_pages_open(staff, filled, project, model, lookup):
    pk = project.pk if lookup == "project" else filled.pk

    assert staff.get(reverse(f"admin:finance_projects_{model}_change", args=[pk])).status_code == 200
    assert staff.get(reverse(f"admin:finance_projects_{model}_history", args=[pk])).status_code == 200


def test_the_project_list_does_not_grow_with_the_portfolio(staff, client_org, django_assert_max_num_queries):
    ProjectFactory.create_batch(20, client=client_org)

    with django_assert_max_num_queries(12):
        staff.get(reverse("admin:finance_projects_financingproject_changelist"))


def test_adding_a_project_in_the_admin_goes_through_the_service(staff, client_org, owner):
    response = staff.post(
        reverse("admin:finance_projects_financingproject_add"),
        {
            "client": client_org.pk,
            "name": "三峡如东海上风电",
            "code": "PF-ADMIN-1",
            "amount": "500000000",
            "currency": "CNY",
            "status": "active",
            "relationship_manager": owner.pk,
            "update_cadence_days": 14,
            **{
                f"{prefix}-{key}": value
                for prefix in ("transitions", "touchpoints", "commitments")
                for key, value in {"TOTAL_FORMS": 0, "INITIAL_FORMS": 0}.items()
            },
        },
    )

    assert response.status_code == 302, response.content
    project = FinancingProject.objects.get(code="PF-ADMIN-1")
    assert project.team_id == client_org.team_id
    assert StageTransition.objects.filter(project=project, stage="inquiry").exists()
    assert project.history.first().history_user is not None


def test_an_rm_from_another_team_is_refused_on_the_form(staff, client_org, outsider):
    response = staff.post(
        reverse("admin:finance_projects_financingproject_add"),
        {
            "client": client_org.pk,
            "name": "X",
            "code": "PF-ADMIN-2",
            "amount": "1",
            "currency": "CNY",
            "status": "active",
            "relationship_manager": outsider.pk,
            "update_cadence_days": 14,
        },
    )

    assert response.status_code == 200
    assert "relationship_manager" in response.context["adminform"].form.errors
    assert not FinancingProject.objects.filter(code="PF-ADMIN-2").exists()


def test_the_fulfil_action_fulfils_open_commitments_and_leaves_closed_ones(staff, project):
    open_one = CommitmentFactory(project=project)
    done = CommitmentFactory(
        project=project, status="fulfilled", fulfilled_at=timezone.now() - timedelta(days=1)
    )

    response = staff.post(
        reverse("admin:finance_projects_commitment_changelist"),
        {"action": "fulfil", "_selected_action": [open_one.pk, done.pk]},
    )

    assert response.status_code == 302
    open_one.refresh_from_db()
    assert open_one.status == "fulfilled"
    assert Commitment.history.filter(id=open_one.pk, status="fulfilled").exists()


def test_the_next_stage_action_moves_projects_one_stage(staff, project):
    staff.post(
        reverse("admin:finance_projects_financingproject_changelist"),
        {"action": "move_to_next_stage", "_selected_action": [project.pk]},
    )

    project.refresh_from_db()
    assert project.stage == "term_sheet"


def test_the_missed_filter_lists_open_past_due_commitments(staff, project):
    missed = CommitmentFactory(project=project, title="Missed one")
    Commitment.objects.filter(pk=missed.pk).update(due_at=timezone.now() - timedelta(days=1))
    CommitmentFactory(project=project, title="Fine one")

    response = staff.get(reverse("admin:finance_projects_commitment_changelist"), {"missed": "yes"})

    assert list(response.context["cl"].queryset) == [missed]


@pytest.mark.parametrize("model", ["financingproject", "commitment", "alert"])
def test_a_history_version_can_be_read_but_not_reverted(staff, filled, model):
    record = {"financingproject": filled.project, "commitment": filled, "alert": filled.project.alerts.get()}[
        model
    ]
    version = record.history.latest()
    url = reverse(f"admin:finance_projects_{model}_simple_history", args=[record.pk, version.history_id])

    assert staff.get(url).status_code == 200
    assert staff.post(url, {}).status_code == 403
    assert record.history.count() == 1


def _change_assignee(staff, alert, assignee):
    return staff.post(
        reverse("admin:finance_projects_alert_change", args=[alert.pk]), {"assignee": assignee.pk}
    )


def test_an_alert_is_reassigned_in_the_admin_only_to_someone_who_sees_its_project(
    staff, project, owner, manager, outsider
):
    alert = AlertFactory(project=project, assignee=owner)

    refused = _change_assignee(staff, alert, outsider)
    assert refused.status_code == 200
    assert "errornote" in refused.content.decode()
    alert.refresh_from_db()
    assert alert.assignee == owner

    assert _change_assignee(staff, alert, manager).status_code == 302
    alert.refresh_from_db()
    assert alert.assignee == manager


def test_a_resolved_alert_is_read_only_in_the_admin(staff, project, owner, manager):
    alert = AlertFactory(project=project, assignee=owner, resolved_at=timezone.now())

    _change_assignee(staff, alert, manager)

    alert.refresh_from_db()
    assert alert.assignee == owner


def test_touchpoints_cannot_be_deleted_in_the_admin(staff, filled, project):
    touchpoint = project.touchpoints.get()

    page = staff.post(
        reverse("admin:finance_projects_touchpoint_delete", args=[touchpoint.pk]), {"post": "yes"}
    )

    assert page.status_code == 403
    assert project.touchpoints.filter(pk=touchpoint.pk).exists()


def test_alerts_filter_by_assignee_and_team_in_the_admin(staff, project, owner, teammate, outsider):
    mine = AlertFactory(project=project, assignee=owner)
    AlertFactory(project=project, assignee=teammate)
    elsewhere = AlertFactory(
        project=ProjectFactory(client=ClientFactory(relationship_manager=outsider)), assignee=outsider
    )
    url = reverse("admin:finance_projects_alert_changelist")

    def listed(**query):
        return {alert.pk for alert in staff.get(url, query).context["cl"].result_list}

    assert listed(assignee__id__exact=owner.pk) == {mine.pk}
    assert elsewhere.pk not in listed(project__team__id__exact=project.team_id)
    assert listed(project__team__id__exact=outsider.team_id) == {elsewhere.pk}


def test_a_contact_with_a_history_cannot_be_deleted_in_the_admin(staff, filled, contact):
    page = staff.post(reverse("admin:finance_projects_contact_delete", args=[contact.pk]), {"post": "yes"})

    assert page.status_code == 403
    assert type(contact).objects.filter(pk=contact.pk).exists()


def test_a_contact_without_a_history_can_be_deleted_in_the_admin(staff, client_org):
    mistake = ContactFactory(client=client_org)

    page = staff.post(reverse("admin:finance_projects_contact_delete", args=[mistake.pk]), {"post": "yes"})

    assert page.status_code == 302
    assert not type(mistake).objects.filter(pk=mistake.pk).exists()


def test_a_history_that_arrives_after_the_delete_page_was_shown_still_stops_the_delete(
    staff, filled, contact, monkeypatch
):
    from finance_projects.admin import ContactAdmin

    # The page was shown while the contact had no history; a touchpoint arrived since.
    monkeypatch.setattr(ContactAdmin, "has_delete_permission", lambda self, request, obj=None: True)

    page = staff.post(
        reverse("admin:finance_projects_contact_delete", args=[contact.pk]), {"post": "yes"}, follow=True
    )

    assert type(contact).objects.filter(pk=contact.pk).exists()
    assert filled.project.touchpoints.filter(contact=contact).exists()
    assert "不能删除" in page.content.decode()  # the service's reason, in the admin's language
