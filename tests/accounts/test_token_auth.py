"""API clients log in once for a token and send it as `Authorization: Token <key>`."""

import pytest
from rest_framework.test import APIClient


@pytest.fixture
def anonymous():
    return APIClient()


def test_a_token_is_issued_for_the_right_password_and_opens_the_api(anonymous, owner, project):
    issued = anonymous.post("/api/v1/auth/token/", {"username": "owner", "password": "pass-word-123"})

    assert issued.status_code == 200
    token = issued.json()["token"]
    with_token = APIClient()
    with_token.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    response = with_token.get("/api/v1/projects/")
    assert response.status_code == 200
    assert [row["id"] for row in response.json()["results"]] == [project.pk]


def test_the_same_token_is_returned_on_the_next_login(anonymous, owner):
    first = anonymous.post("/api/v1/auth/token/", {"username": "owner", "password": "pass-word-123"})
    second = anonymous.post("/api/v1/auth/token/", {"username": "owner", "password": "pass-word-123"})

    assert first.json()["token"] == second.json()["token"]


def test_a_wrong_password_gets_no_token(anonymous, owner):
    response = anonymous.post("/api/v1/auth/token/", {"username": "owner", "password": "guess"})

    assert response.status_code == 400
    assert "token" not in response.json()


def test_an_unknown_token_is_refused(anonymous, db):
    anonymous.credentials(HTTP_AUTHORIZATION="Token 0123456789abcdef0123456789abcdef01234567")

    assert anonymous.get("/api/v1/projects/").status_code == 401


def test_a_deactivated_users_token_stops_working(anonymous, owner):
    token = anonymous.post("/api/v1/auth/token/", {"username": "owner", "password": "pass-word-123"}).json()[
        "token"
    ]
    owner.is_active = False
    owner.save()
    anonymous.credentials(HTTP_AUTHORIZATION=f"Token {token}")

    assert anonymous.get("/api/v1/projects/").status_code == 401
