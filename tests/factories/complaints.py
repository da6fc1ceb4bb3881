"""Complaints through the service, so every factory-made complaint has a real clock and
timeline; pass `received_at` to start it in the past."""

import importlib
from datetime import timedelta

import factory
from django.utils import timezone

from complaints import services
from complaints.models import Complaint, RecoveryAction, SlaPolicy

from .core import ContactFactory, ProjectFactory

__all__ = ["ComplaintFactory", "RecoveryActionFactory", "china_policy", "ensure_sla_policies", "uk_policy"]


def ensure_sla_policies() -> None:
    """The seeded policies, again: a transactional test's flush removes migration data."""
    seeded = importlib.import_module("complaints.migrations.0002_default_sla_policies")
    for policy in seeded.POLICIES:
        SlaPolicy.objects.get_or_create(code=policy["code"], defaults=policy)


def china_policy() -> SlaPolicy:
    return SlaPolicy.objects.get(code="cn-nfra")


def uk_policy() -> SlaPolicy:
    return SlaPolicy.objects.get(code="uk-fca-disp")


class ComplaintFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Complaint

    project = factory.SubFactory(ProjectFactory)
    contact = factory.LazyAttribute(
        lambda c: c.project.client.contacts.first() or ContactFactory(client=c.project.client)
    )
    channel = "email"
    category = "late_information"
    severity = "medium"
    # Each its own words: the same words from the same contact at once are one complaint sent twice.
    description = factory.Sequence(
        lambda n: f"Nobody told us the credit committee had postponed decision {n}."
    )
    received_at = factory.LazyFunction(timezone.now)
    created_by = None
    owner = None

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        return services.complaint_create(**kwargs)


class RecoveryActionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RecoveryAction

    complaint = factory.SubFactory(ComplaintFactory)
    kind = "apology"
    description = "Call the CFO to apologise for the silence."
    owner = factory.LazyAttribute(lambda a: a.complaint.owner or a.complaint.project.relationship_manager)
    due_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=3))
