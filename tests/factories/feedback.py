import importlib
from datetime import timedelta

import factory
from django.utils import timezone

from feedback.models import Question, Survey, SurveyInvitation, SurveyResponse
from finance_projects.tokens import hash_token, new_token

from .core import ContactFactory, ProjectFactory

__all__ = [
    "InvitationFactory",
    "QuestionFactory",
    "SurveyFactory",
    "SurveyResponseFactory",
    "invitation_with_link",
    "shipped_survey",
]

_shipped = importlib.import_module("feedback.migrations.0002_shipped_surveys")


def shipped_survey(kind: str) -> Survey:
    """The survey the product ships for this kind (created again when a test flushed the table)."""
    survey = Survey.objects.filter(kind=kind).order_by("id").first()
    if survey is None:
        from django.apps import apps

        _shipped.create_surveys(apps, None)
        survey = Survey.objects.filter(kind=kind).order_by("id").first()
    return survey


class SurveyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Survey

    kind = "custom"
    name_zh = factory.Sequence(lambda n: f"调查 {n}")
    name_en = factory.Sequence(lambda n: f"Survey {n}")


class QuestionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Question

    survey = factory.SubFactory(SurveyFactory)
    position = factory.Sequence(lambda n: n)
    type = "nps"
    text_zh = "您有多大可能推荐我们？"
    text_en = "How likely are you to recommend us?"


class InvitationFactory(factory.django.DjangoModelFactory):
    """An invitation already emailed (sent_at set), as the delivery task leaves it."""

    class Meta:
        model = SurveyInvitation

    project = factory.SubFactory(ProjectFactory)
    contact = factory.LazyAttribute(lambda i: ContactFactory(client=i.project.client))
    survey = factory.LazyFunction(lambda: shipped_survey("relationship"))
    trigger = "manual"
    stage = factory.LazyAttribute(lambda i: i.project.stage)
    created_at = factory.LazyFunction(timezone.now)
    sent_at = factory.LazyAttribute(lambda i: i.created_at)
    expires_at = factory.LazyAttribute(lambda i: i.created_at + timedelta(days=30))


class SurveyResponseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SurveyResponse

    invitation = factory.SubFactory(InvitationFactory)
    submitted_at = factory.LazyFunction(timezone.now)


def invitation_with_link(**kwargs) -> tuple[SurveyInvitation, str]:
    """An invitation and a working token for its personal link."""
    invitation = InvitationFactory(**kwargs)
    token = new_token()
    invitation.links.create(token_hash=hash_token(token))
    return invitation, token
