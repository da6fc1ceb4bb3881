from io import StringIO

import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command
from django.utils import timezone

from accounts.models import Team, User
from finance_projects.demo import DEMO_PASSWORD
from finance_projects.models import (
    Client,
    Commitment,
    Contact,
    FinancingProject,
    Stage,
    StageTransition,
    Touchpoint,
)

MODELS = [Team, User, Client, Contact, FinancingProject, StageTransition, Touchpoint, Commitment]


def _counts():
    return {model.__name__: model.objects.count() for model in MODELS}


@pytest.fixture
def seeded(db):
    out = StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def test_running_seed_demo_twice_changes_nothing(seeded):
    first = _counts()
    first_codes = sorted(FinancingProject.objects.values_list("code", "name", "amount", "stage"))

    call_command("seed_demo", stdout=StringIO())

    assert _counts() == first
    assert sorted(FinancingProject.objects.values_list("code", "name", "amount", "stage")) == first_codes


def test_the_demo_portfolio_is_realistic_and_complete(seeded):
    now = timezone.now()
    projects = FinancingProject.objects.all()

    assert 35 <= Client.objects.count() <= 45
    assert 75 <= projects.count() <= 85
    assert set(projects.values_list("stage", flat=True)) == set(Stage.values)
    assert (
        Contact.objects.filter(language="zh-hans").exists() and Contact.objects.filter(language="en").exists()
    )
    assert projects.filter(name__regex=r"[\u4e00-\u9fff]").exists()
    assert projects.filter(name__regex=r"^[A-Za-z]").exists()
    assert projects.filter(status="active", next_update_due_at__lt=now).exists()
    statuses = set(Commitment.objects.values_list("status", flat=True))
    assert statuses == {"open", "fulfilled", "renegotiated", "cancelled"}
    assert Commitment.objects.filter(status="open", due_at__lt=now).exists()
    assert Commitment.objects.filter(renegotiated_from__isnull=False, status="open").exists()
    # Every project has exactly one current stage, and it is the project's stage.
    current = StageTransition.objects.filter(left_at__isnull=True)
    assert current.count() == projects.count()
    assert all(t.stage == t.project.stage for t in current.select_related("project"))


def test_every_demo_login_works_with_the_documented_password(seeded):
    assert "demo-pass-2026" in seeded
    for username in ["chen.jianguo", "wang.wei", "ma.jun", "demo.admin"]:
        assert username in seeded
        assert authenticate(username=username, password=DEMO_PASSWORD) is not None
    assert User.objects.get(username="demo.admin").is_superuser
    assert Team.objects.filter(manager__isnull=True, name__contains="Infrastructure East").count() == 0


def test_the_demo_is_past_its_relationship_surveys_so_the_scan_invites_no_one(seeded):
    from feedback.scans import scan_relationship_surveys

    assert scan_relationship_surveys() == 0


def test_every_live_demo_project_has_its_health_from_the_start(seeded):
    live = FinancingProject.objects.filter(status__in=["active", "on_hold"])

    assert live.exists()
    assert not live.filter(health__isnull=True).exists()
