"""Standing cast for every test: an owner RM, a teammate, an outsider from another team, the
team's manager, a department colleague and an admin, plus one project the owner manages."""

import importlib
import os
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.apps import apps as django_apps
from rest_framework.test import APIClient

from accounts.models import Role
from cem.ratelimit import forget_known_over_limit
from tests.factories import ClientFactory, ContactFactory, ProjectFactory, TeamFactory, UserFactory

ON_POSTGRES = os.environ.get("DATABASE_URL", "").startswith(("postgres", "postgresql"))
ON_REDIS = bool(os.environ.get("REDIS_URL"))


def pytest_collection_modifyitems(config, items):
    skip_pg = pytest.mark.skip(reason="needs PostgreSQL: set DATABASE_URL")
    skip_redis = pytest.mark.skip(reason="needs Redis: set REDIS_URL")
    for item in items:
        if "postgres" in item.keywords and not ON_POSTGRES:
            item.add_marker(skip_pg)
        if "redis" in item.keywords and not ON_REDIS:
            item.add_marker(skip_redis)


@pytest.fixture(autouse=True)
def _fast_and_isolated(settings, tmp_path):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.AXES_ENABLED = False
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    forget_known_over_limit()


@pytest.fixture(scope="session", autouse=True)
def _own_redis_database_per_test_process():
    """Test processes running side by side (pytest-xdist) each get their own Redis database, so
    one's Celery worker never takes the other's tasks, nor its cache flush the other's keys."""
    from django.conf import settings

    from cem.celery import app

    worker = os.environ.get("PYTEST_XDIST_WORKER", "")  # gw0, gw1... when tests run side by side
    if not settings.REDIS_URL or not worker:
        return
    url = urlsplit(settings.REDIS_URL)
    # Redis has 16 databases unless configured otherwise: past them, workers share one again.
    database = (int(url.path.strip("/") or 0) + int(worker.removeprefix("gw"))) % 16
    settings.REDIS_URL = settings.CELERY_BROKER_URL = urlunsplit(url._replace(path=f"/{database}"))
    app.conf.broker_url = settings.CELERY_BROKER_URL


# Rows that data migrations create; a transactional test's flush deletes them, so they are
# put back (with the migrations' own functions) before every transactional test.
REFERENCE_DATA = [
    ("finance_projects.migrations.0002_default_stage_definitions", "create_defaults"),
    ("complaints.migrations.0002_default_sla_policies", "seed"),
    ("feedback.migrations.0002_shipped_surveys", "create_surveys"),
]


def ensure_reference_data():
    for module_name, function_name in REFERENCE_DATA:
        getattr(importlib.import_module(module_name), function_name)(django_apps, None)


@pytest.fixture(scope="session", autouse=True)
def _reference_data_in_the_test_database(request):
    # A reused test database may come from a run whose last transactional test flushed it.
    uses_database = any(
        item.get_closest_marker("django_db") or {"db", "transactional_db"} & set(item.fixturenames)
        for item in request.session.items
    )
    if not uses_database:
        return
    request.getfixturevalue("django_db_setup")
    with request.getfixturevalue("django_db_blocker").unblock():
        ensure_reference_data()


@pytest.fixture(autouse=True)
def _reference_data_for_transactional_tests(request):
    marker = request.node.get_closest_marker("django_db")
    transactional = (marker is not None and marker.kwargs.get("transaction")) or any(
        name in request.fixturenames for name in ("transactional_db", "live_server")
    )
    if transactional:
        request.getfixturevalue("transactional_db")
        ensure_reference_data()


@pytest.fixture
def team(db):
    return TeamFactory(name="Infrastructure East")


@pytest.fixture
def other_team(db):
    return TeamFactory(name="Energy North")


@pytest.fixture
def manager(team):
    user = UserFactory(username="manager", role=Role.MANAGER, team=team)
    team.manager = user
    team.save()
    return user


@pytest.fixture
def owner(team, manager):
    return UserFactory(username="owner", role=Role.RELATIONSHIP_MANAGER, team=team)


@pytest.fixture
def teammate(team, manager):
    return UserFactory(username="teammate", role=Role.RELATIONSHIP_MANAGER, team=team)


@pytest.fixture
def outsider(other_team):
    return UserFactory(username="outsider", role=Role.RELATIONSHIP_MANAGER, team=other_team)


@pytest.fixture
def department_user(team):
    return UserFactory(username="legal", role=Role.DEPARTMENT, department="legal", team=team)


@pytest.fixture
def admin_user(db):
    return UserFactory(username="admin", role=Role.ADMIN, is_staff=True, is_superuser=True, team=None)


@pytest.fixture
def client_org(owner):
    return ClientFactory(relationship_manager=owner, team=owner.team, name="华能新能源 Huaneng Renewables")


@pytest.fixture
def contact(client_org):
    return ContactFactory(client=client_org, name="Li Wei", language="zh-hans")


@pytest.fixture
def project(client_org):
    return ProjectFactory(client=client_org)


@pytest.fixture
def api():
    return APIClient()


@pytest.fixture
def api_as(api):
    def login(user):
        api.force_authenticate(user=user)
        return api

    return login


@pytest.fixture
def quiet_beat_queries():
    """Queries of a scan beat with nothing to do: the change ranges and the alerted count in one
    statement, after the advisory lock that runs one beat of a kind at a time on PostgreSQL; the
    beat's transaction is a savepoint inside the test's (two statements more)."""
    from django.db import connection

    return (2 if connection.vendor == "postgresql" else 1) + 2


@pytest.fixture
def eager_celery():
    """Celery tasks run inline, as a worker would right after the commit; yields the app."""
    from cem.celery import app

    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield app
    app.conf.task_always_eager = previous
