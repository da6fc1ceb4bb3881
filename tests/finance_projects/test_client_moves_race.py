"""A record naming a contact, written while the contact or its project moves to another client
(PostgreSQL): whichever commits first, the other sees it, so no touchpoint ends up naming a
contact of another client than its project's."""

import threading
import time

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from finance_projects import services
from finance_projects.models import Contact, FinancingProject, Touchpoint
from tests.factories import ClientFactory, TouchpointFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def first_then_second(first, second):
    """Run `first` in a transaction left open until `second`, started meanwhile in another
    connection, has had time to wait for it; then commit it. Returns each one's outcome."""
    outcomes, written, commit = {}, threading.Event(), threading.Event()

    def run(name, work):
        try:
            outcomes[name] = work()
        except ValidationError as error:
            outcomes[name] = error
        finally:
            written.set()
            connection.close()

    def held_open():
        with transaction.atomic():
            result = first()
            written.set()
            commit.wait(10)
        return result

    first_thread = threading.Thread(target=run, args=("first", held_open))
    first_thread.start()
    assert written.wait(10)
    written.clear()
    second_thread = threading.Thread(target=run, args=("second", second))
    second_thread.start()
    time.sleep(0.5)
    waited = "second" not in outcomes
    commit.set()
    first_thread.join(10)
    second_thread.join(10)
    return outcomes["first"], outcomes["second"], waited


@pytest.fixture
def other_client(owner):
    return ClientFactory(relationship_manager=owner, team=owner.team, name="Other client")


def log_a_call(project_id, contact, by):
    return services.touchpoint_log(
        project=FinancingProject.objects.get(pk=project_id),
        contact=contact,
        channel="call",
        occurred_at=timezone.now(),
        summary="Called about the term sheet.",
        logged_by=by,
    )


def move_project(project_id, client):
    return services.project_update(project=FinancingProject.objects.get(pk=project_id), client=client)


def assert_every_touchpoint_names_a_contact_of_its_projects_client():
    mismatched = Touchpoint.objects.exclude(contact=None).exclude(contact__client=F("project__client"))
    assert not mismatched.exists()


def test_a_project_moved_while_a_touchpoint_is_given_a_contact_waits_and_is_refused(
    project, contact, other_client
):
    touchpoint = TouchpointFactory(project=project, contact=None)

    edited, moved, waited = first_then_second(
        lambda: services.touchpoint_edit(
            touchpoint=Touchpoint.objects.get(pk=touchpoint.pk), contact=contact
        ),
        lambda: move_project(project.pk, other_client),
    )

    assert waited
    assert isinstance(edited, Touchpoint)
    assert isinstance(moved, ValidationError)
    assert FinancingProject.objects.get(pk=project.pk).client_id == project.client_id
    assert_every_touchpoint_names_a_contact_of_its_projects_client()


def test_a_contact_moved_while_a_touchpoint_names_them_waits_and_is_refused(
    project, contact, other_client, owner
):
    logged, moved, waited = first_then_second(
        lambda: log_a_call(project.pk, contact, owner),
        lambda: services.contact_update(contact=Contact.objects.get(pk=contact.pk), client=other_client),
    )

    assert waited
    assert isinstance(logged, Touchpoint)
    assert isinstance(moved, ValidationError)
    assert Contact.objects.get(pk=contact.pk).client_id == project.client_id
    assert_every_touchpoint_names_a_contact_of_its_projects_client()


def test_a_touchpoint_logged_while_its_project_moves_waits_and_is_refused(
    project, contact, other_client, owner
):
    moved, logged, waited = first_then_second(
        lambda: move_project(project.pk, other_client),
        lambda: log_a_call(project.pk, contact, owner),
    )

    assert waited
    assert isinstance(moved, FinancingProject)
    assert isinstance(logged, ValidationError)
    assert list(logged.message_dict) == ["contact"]
    assert not Touchpoint.objects.filter(contact=contact).exists()
