import factory
from django.utils import timezone

from digests.models import ClientHealthSnapshot, DigestPreference, DigestRun

from .core import ClientFactory, UserFactory

__all__ = ["ClientHealthSnapshotFactory", "DigestPreferenceFactory", "DigestRunFactory"]


class DigestPreferenceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DigestPreference
        django_get_or_create = ["user"]

    user = factory.SubFactory(UserFactory)
    enabled = True
    language = ""


class DigestRunFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DigestRun

    recipient = factory.SubFactory(UserFactory, role="manager")
    iso_year = 2025
    iso_week = 10


class ClientHealthSnapshotFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ClientHealthSnapshot

    client = factory.SubFactory(ClientFactory)
    iso_year = 2025
    iso_week = 10
    health = 80
    project_count = 1
    taken_at = factory.LazyFunction(timezone.now)
