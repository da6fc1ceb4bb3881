"""`/healthz` answers 200 when the database and the broker answer, and 503 naming what failed."""

from unittest import mock

import pytest
from django.db import OperationalError, connection

from cem.celery import app as celery_app


@pytest.fixture
def broker_down(monkeypatch):
    """Point the broker at a closed port: nothing listens on 127.0.0.1:1."""
    connect = celery_app.connection_for_write
    monkeypatch.setattr(
        celery_app,
        "connection_for_write",
        lambda **kwargs: connect(url="redis://127.0.0.1:1/0", transport_options={}),
    )


def test_healthy_when_the_database_and_the_broker_answer(client, db):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "broker": "ok"}}
    assert "no-cache" in response["Cache-Control"]


def test_unavailable_and_names_the_broker_when_the_broker_is_down(client, db, broker_down):
    response = client.get("/healthz")

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["broker"] != "ok"


def test_unavailable_and_names_the_database_when_the_database_is_down(client, db):
    with mock.patch.object(connection, "cursor", side_effect=OperationalError("connection refused")):
        response = client.get("/healthz")

    assert response.status_code == 503
    body = response.json()
    assert "OperationalError" in body["checks"]["database"]
    assert body["checks"]["broker"] == "ok"


def test_the_health_check_needs_no_login_and_reveals_no_secrets(client, db, settings):
    response = client.get("/healthz")

    assert settings.SECRET_KEY not in response.content.decode()
    assert "password" not in response.content.decode().lower()
