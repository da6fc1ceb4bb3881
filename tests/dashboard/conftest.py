import pytest

# The project page's queries, whatever the project's history: the pin of every test that
# grows a project and opens its page.
PROJECT_PAGE_QUERIES = 20


@pytest.fixture
def browser(client):
    """`browser(user)`: the test client logged in as `user`."""

    def login(user):
        client.force_login(user)
        return client

    return login
