import pytest


@pytest.fixture
def staff(client, admin_user):
    """The test client logged in as an English-speaking superuser."""
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    admin_user.language = "en"
    admin_user.save()
    client.force_login(admin_user)
    return client
