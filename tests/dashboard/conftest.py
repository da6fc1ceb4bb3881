import pytest


@pytest.fixture
def browser(client):
    """`browser(user)`: the test client logged in as `user`."""

    def login(user):
        client.force_login(user)
        return client

    return login
