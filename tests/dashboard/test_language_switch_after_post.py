"""The language switch of `base.html` on a page rendered from a POST: it comes back to a page
that answers GET (the project page after a refused follow-up), never to the POST-only URL the
form was sent to (a blank 405). Pages reached by GET keep coming back to themselves."""

import html
import re
from datetime import timedelta

import pytest
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from dashboard.context_processors import language_next
from finance_projects import services as project_services
from tests.factories import InvitationFactory, SurveyResponseFactory

pytestmark = pytest.mark.django_db


def switch_next(body: str) -> str:
    """The `next` the language switch form of the page sends."""
    form = re.search(
        r'<form action="/i18n/setlang/" method="post" class="lang-switch">(.*?)</form>', body, re.S
    )
    assert form is not None
    return html.unescape(
        re.search(r'<input name="next" type="hidden" value="([^"]*)">', form.group(1)).group(1)
    )


def switch_language(client, body: str, language: str):
    """Press the page's language button: set_language, then the page it redirects to."""
    switched = client.post(reverse("set_language"), {"language": language, "next": switch_next(body)})
    assert switched.status_code == 302
    return client.get(switched["Location"])


def test_switching_language_on_a_refused_follow_up_comes_back_to_the_project_page(
    client, owner, project, contact
):
    survey_response = SurveyResponseFactory(
        invitation=InvitationFactory(project=project, contact=contact),
        nps=2,
        submitted_at=timezone.now() - timedelta(hours=2),
    )
    client.force_login(owner)
    action = reverse("dashboard:project-action", args=[project.pk, "follow_up"])
    assert client.get(action).status_code == 405  # the URL the form went to takes POSTs only

    refused = client.post(
        action, {"response": survey_response.pk, "contacted_at": "", "outcome": ""}, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert refused.status_code == 400
    body = refused.content.decode()

    assert switch_next(body) == reverse("dashboard:project", args=[project.pk])
    page = switch_language(client, body, "zh-hans")
    assert page.status_code == 200
    assert '<html lang="zh-hans">' in page.content.decode()


def test_a_page_reached_by_get_comes_back_to_itself_with_its_query(client, owner, project):
    client.force_login(owner)

    body = client.get("/", {"q": "wind", "page": "1"}).content.decode()

    assert switch_next(body) == "/?q=wind&page=1"


def test_a_client_link_that_takes_posts_too_switches_with_a_link_to_itself(client, owner, project, contact):
    _link, token = project_services.status_link_create(project=project, contact=contact, created_by=owner)
    url = reverse("dashboard:status-page", args=[token])

    refused = client.post(url, {"description": ""})

    # No set_language form (it refuses the `Origin: null` of this no-referrer page): a link to
    # the page the form was posted to, which answers GET.
    body = refused.content.decode()
    assert refused.status_code == 400
    assert "/i18n/setlang/" not in body
    assert 'href="?lang=en"' in body
    switched = client.get(url, {"lang": "en"})
    assert switched.status_code == 200
    assert '<html lang="en">' in switched.content.decode()


def test_a_refused_login_comes_back_to_the_login_page(client, owner):
    url = reverse("login") + "?next=/team/"

    refused = client.post(url, {"username": owner.username, "password": "not the password"})

    assert refused.status_code == 200
    assert switch_next(refused.content.decode()) == url


@pytest.mark.parametrize(
    "path, expected",
    [
        ("/projects/13/follow_up/", "/projects/13/"),
        ("/projects/13/categories/", "/projects/13/"),
        ("/complaints/5/acknowledge/", "/complaints/5/"),
        ("/complaints/5/followups/9/done/", "/complaints/5/"),
        ("/commitments/7/renegotiate/", "/"),  # nothing above it is a page: the dashboard home
        ("/alerts/3/snooze/", "/"),
    ],
)
def test_a_post_only_url_gives_the_nearest_page_above_it(path, expected):
    request = RequestFactory().post(path)

    assert language_next(request) == {"lang_next": expected}


def test_what_the_view_chose_wins(rf):
    request = rf.post("/projects/13/follow_up/")
    request.lang_next = "/clients/4/"

    assert language_next(request) == {"lang_next": "/clients/4/"}


def test_a_view_can_set_it_in_its_context_too(rf):
    from django.template import engines

    request = rf.post("/projects/13/follow_up/")
    request.user = None
    template = engines["django"].from_string("{{ lang_next }}")

    assert template.render({"lang_next": "/clients/4/"}, request) == "/clients/4/"
    assert template.render({}, request) == "/projects/13/"
