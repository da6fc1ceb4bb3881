"""A status-link form sent twice at the same moment (a double click) creates one link."""

import pytest

from finance_projects import services
from finance_projects.models import ProjectStatusLink
from tests.threads import at_once


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_same_request_sent_twice_at_once_creates_one_link_and_both_show_it(project, contact):
    def send():
        return services.status_link_create(
            project=project, contact=contact, created_by=project.relationship_manager, request_key="once"
        )

    results, errors = at_once(send)

    assert errors == []
    assert ProjectStatusLink.objects.filter(project=project).count() == 1
    (first_link, first_token), (second_link, second_token) = results
    assert (first_link.pk, first_token) == (second_link.pk, second_token)
