from datetime import timedelta
from decimal import Decimal

import factory
from django.utils import timezone

from accounts.models import Role, Team, User
from finance_projects.models import (
    Alert,
    Client,
    Commitment,
    Contact,
    FinancingProject,
    StageTransition,
    Touchpoint,
)

__all__ = [
    "AlertFactory",
    "ClientFactory",
    "CommitmentFactory",
    "ContactFactory",
    "ProjectFactory",
    "TeamFactory",
    "TouchpointFactory",
    "UserFactory",
]


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team
        django_get_or_create = ["name"]

    name = factory.Sequence(lambda n: f"Team {n}")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ["username"]
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.LazyAttribute(lambda u: f"{u.username}@bank.example")
    role = Role.RELATIONSHIP_MANAGER
    team = factory.SubFactory(TeamFactory)
    language = "en"
    password = factory.PostGenerationMethodCall("set_password", "pass-word-123")

    @factory.post_generation
    def save_password(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class ClientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Client

    name = factory.Sequence(lambda n: f"Client {n} Energy Ltd")
    industry = "Renewable energy"
    region = "East China"
    relationship_manager = factory.SubFactory(UserFactory)
    team = factory.LazyAttribute(lambda c: c.relationship_manager.team)


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contact

    client = factory.SubFactory(ClientFactory)
    name = factory.Faker("name")
    email = factory.Sequence(lambda n: f"contact{n}@client.example")
    language = "en"


class ProjectFactory(factory.django.DjangoModelFactory):
    """A project with its first stage transition, as `project_create` would make it."""

    class Meta:
        model = FinancingProject
        skip_postgeneration_save = True

    client = factory.SubFactory(ClientFactory)
    name = factory.Sequence(lambda n: f"Solar farm {n}")
    code = factory.Sequence(lambda n: f"PF-{n:05d}")
    amount = Decimal("120000000.00")
    currency = "CNY"
    relationship_manager = factory.LazyAttribute(lambda p: p.client.relationship_manager)
    team = factory.LazyAttribute(lambda p: p.client.team)
    update_cadence_days = 14
    stage_entered_at = factory.LazyFunction(timezone.now)
    next_update_due_at = factory.LazyAttribute(
        lambda p: timezone.now() + timedelta(days=p.update_cadence_days)
    )

    @factory.post_generation
    def transition(obj, create, extracted, **kwargs):
        if create:
            StageTransition.objects.create(project=obj, stage=obj.stage, entered_at=obj.stage_entered_at)


class TouchpointFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Touchpoint

    project = factory.SubFactory(ProjectFactory)
    channel = "call"
    occurred_at = factory.LazyFunction(timezone.now)
    summary = "Called the CFO about the term sheet."
    is_client_update = True


class CommitmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Commitment

    project = factory.SubFactory(ProjectFactory)
    title = factory.Sequence(lambda n: f"Send the draft facility agreement #{n}")
    kind = "document"
    owner = factory.LazyAttribute(lambda c: c.project.relationship_manager)
    due_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=5))


class AlertFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Alert

    project = factory.SubFactory(ProjectFactory)
    kind = "commitment_missed"
    severity = "warning"
    subject_type = "commitment"
    subject_id = factory.Sequence(lambda n: n + 1)
    message = "A commitment was missed."
    assignee = factory.LazyAttribute(lambda a: a.project.relationship_manager)
    opened_at = factory.LazyFunction(timezone.now)
    critical_since = factory.LazyAttribute(lambda a: a.opened_at if a.severity == "critical" else None)
