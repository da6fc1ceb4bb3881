import io

import pytest

from complaints.demo import DEMO, seed_complaints
from complaints.models import Complaint
from tests.factories import ContactFactory, ProjectFactory

pytestmark = pytest.mark.django_db


def test_the_demo_seeds_every_state_once(manager, owner, teammate, client_org):
    for _ in range(3):
        project = ProjectFactory(client=client_org)
    ContactFactory(client=client_org)
    seed_complaints(io.StringIO())
    seed_complaints(io.StringIO())
    assert Complaint.objects.count() == len(DEMO)
    assert set(Complaint.objects.values_list("status", flat=True)) == {"new", "investigating", "closed"}
    assert Complaint.objects.filter(channel="status_page", created_by=None).exists()
    assert project.pk
