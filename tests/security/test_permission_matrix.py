"""The permission matrix: every route the project serves, walked from the URL resolver, is
probed as an anonymous caller, an RM of another team, department staff with nothing assigned,
and the owner. Outsiders never get a 2xx on someone else's object, whatever the method; the
owner does get the page. A route missing from `matrix_table.TABLE` fails the matrix."""

import re

import pytest
from django.conf import settings
from django.test import Client
from django.urls import resolve, reverse
from rest_framework.test import APIClient

from .matrix_routes import Route, all_routes
from .matrix_table import EXEMPT, KNOWN_GAPS, TABLE, Spec
from .matrix_world import build_world

API_PREFIX = "api/v1/"
UNSAFE = ("post", "put", "patch", "delete")
OUTSIDER_REFUSALS = {403, 404}
GROUP = re.compile(r"<(?:\w+:)?(?P<name>\w+)>|\(\?P<(?P<rname>\w+)>(?P<body>[^)]*)\)")


def key_of(route: Route) -> str:
    return f"{route.name}@api" if route.pattern.startswith(API_PREFIX) else route.name


def url_for(route: Route, kwargs: dict) -> str:
    """The concrete URL for `route` with `kwargs`, checked to resolve back to that very route
    (names are not unique: the API and the browser both have an `import-detail`)."""

    def value(match):
        return str(kwargs[match.group("name") or match.group("rname")])

    path = GROUP.sub(value, route.pattern)
    path = path.replace("^", "").replace("$", "").replace("\\.", ".").replace("/?", "")
    url = "/" + path
    resolved = resolve(url).route
    assert resolved.replace("^", "") == route.pattern.replace("^", ""), f"{url} resolves to {resolved}"
    return url


def probed_routes() -> list:
    return [
        pytest.param(route, marks=known_gap(key_of(route)))
        for route in all_routes()
        if not route.is_admin and key_of(route) in TABLE
    ]


def known_gap(key: str) -> list:
    reason = KNOWN_GAPS.get(key)
    return [pytest.mark.xfail(strict=True, reason=reason)] if reason else []


def route_id(route: Route) -> str:
    return key_of(route) + (".json" if route.has_format_suffix else "")


# --- coverage ------------------------------------------------------------------------------


def test_every_route_is_covered_by_the_permission_matrix():
    keys = {key_of(route) for route in all_routes() if not route.is_admin}
    uncovered = sorted(keys - TABLE.keys() - EXEMPT.keys())

    assert not uncovered, "\n".join(
        f"new route {key} is not covered by the permission matrix" for key in uncovered
    )


def test_the_matrix_names_no_route_that_is_gone():
    keys = {key_of(route) for route in all_routes()}
    bench_only = {"bench-bare"} if not settings.BENCH_ENDPOINTS else set()

    assert sorted(TABLE.keys() - keys) == []
    assert sorted(EXEMPT.keys() - keys - bench_only) == []


def test_only_shared_objects_are_readable_by_every_colleague():
    shared = {key for key, spec in TABLE.items() if spec.shared}

    assert shared == {"complaints:case", "survey-detail@api"}


# --- the matrix ----------------------------------------------------------------------------


@pytest.fixture
def world(owner, client_org, contact, project):
    return build_world(owner=owner, client=client_org, contact=contact, project=project)


@pytest.fixture
def cast(owner, teammate, outsider, manager, department_user, admin_user):
    return {"owner": owner, "outsider": outsider, "manager": manager, "department": department_user}


def caller(route: Route, user=None):
    """A browser for pages, an API client for the API; `user=None` is anonymous."""
    if key_of(route).endswith("@api"):
        api = APIClient()
        if user is not None:
            api.force_authenticate(user=user)
        return api
    browser = Client()
    if user is not None:
        browser.force_login(user)
    return browser


def send(route: Route, client, method: str, url: str):
    if key_of(route).endswith("@api"):
        return getattr(client, method)(url, {}, format="json")
    return getattr(client, method)(url) if method == "get" else getattr(client, method)(url, {})


def is_login_redirect(response) -> bool:
    return response.status_code == 302 and response["Location"].startswith(reverse(settings.LOGIN_URL))


def check_anonymous(route: Route, spec: Spec, url: str):
    anonymous = caller(route)
    for method in ("get", *UNSAFE):
        response = send(route, anonymous, method, url)
        where = f"anonymous {method.upper()} {url}"
        if spec.kind.startswith("api"):
            assert response.status_code in {401, 403, 405} if method != "get" else {401, 403}, (
                f"{where} answered {response.status_code}"
            )
        else:
            refused = is_login_redirect(response) or response.status_code == 405
            assert refused, f"{where} answered {response.status_code} instead of the login page"
            if method == "get" and not spec.post_only:
                assert is_login_redirect(response), f"{where} answered {response.status_code}"


def check_outsider(route: Route, spec: Spec, url: str, user, role: str):
    client = caller(route, user)
    for method in ("get", *UNSAFE):
        response = send(route, client, method, url)
        where = f"{role} {method.upper()} {url}"
        assert response.status_code < 500, f"{where} failed with {response.status_code}"
        if method == "get" and spec.shared:
            assert response.status_code == 200, f"{where} answered {response.status_code}"
            continue
        allowed = OUTSIDER_REFUSALS | ({405} if method != "get" or spec.post_only else set())
        assert response.status_code in allowed, f"{where} answered {response.status_code}: a leak"


def check_viewer(route: Route, spec: Spec, url: str, user):
    client = caller(route, user)
    response = send(route, client, "get", url)
    if not spec.post_only:
        assert response.status_code == 200, f"{spec.viewer} GET {url} answered {response.status_code}"
        return
    assert response.status_code == 405, f"{spec.viewer} GET {url} answered {response.status_code}"
    response = send(route, client, "post", url)
    assert response.status_code < 500, f"{spec.viewer} POST {url} failed with {response.status_code}"
    assert response.status_code not in {401, 403, 404}, (
        f"{spec.viewer} POST {url} answered {response.status_code}: the owner cannot reach their own object"
    )


def check_token(route: Route, spec: Spec, url: str, world):
    unknown = url_for(route, {"token": "x" * 43})
    anonymous = Client()

    assert anonymous.get(unknown).status_code == 404, f"GET {unknown} with an unknown token"
    assert anonymous.post(unknown, {}).status_code in {403, 404, 405}, f"POST {unknown} with an unknown token"
    assert anonymous.get(url).status_code == 200, f"GET {url} with the client's own token"


@pytest.mark.parametrize("route", probed_routes(), ids=route_id)
def test_route_answers_only_to_those_who_may_see_it(route, world, cast):
    spec = TABLE[key_of(route)]
    kwargs = spec.kwargs(world) | ({"format": "json"} if route.has_format_suffix else {})
    url = url_for(route, kwargs)

    if spec.kind == "token":
        check_token(route, spec, url, world)
        return
    check_anonymous(route, spec, url)
    if spec.kind in {"object", "api-object"}:
        check_outsider(route, spec, url, cast["outsider"], "RM of another team")
        check_outsider(route, spec, url, cast["department"], "department staff not assigned")
    check_viewer(route, spec, url, cast[spec.viewer])


# --- the admin site ------------------------------------------------------------------------

ADMIN_PUBLIC = {
    "admin:login": "the admin's own login page",
    "admin:logout": "signing out needs no session",
}


def admin_value(name: str, body: str) -> str:
    """A value the admin pattern accepts: the first app label of `(?P<app_label>a|b)`, else 1."""
    first = body.split("|")[0]
    return first if re.fullmatch(r"\w+", first) and "|" in body else "1"


def admin_url(route: Route) -> str:
    def value(match):
        if match.group("rname"):
            return admin_value(match.group("rname"), match.group("body"))
        return "1"

    path = GROUP.sub(value, route.pattern)
    path = path.replace("^", "").replace("$", "").replace("\\.", ".").replace(".*", "")
    return "/" + path


def admin_routes() -> list[Route]:
    return [route for route in all_routes() if route.is_admin and route.name not in ADMIN_PUBLIC]


@pytest.mark.parametrize("route", admin_routes(), ids=lambda route: route.name)
def test_the_admin_turns_away_anyone_who_is_not_staff(route, owner, client):
    url = admin_url(route)
    login = reverse("admin:login")

    anonymous = client.get(url)
    client.force_login(owner)
    non_staff = client.get(url)

    for who, response in (("anonymous", anonymous), ("a non-staff RM", non_staff)):
        assert response.status_code == 302, f"{who} GET {url} answered {response.status_code}"
        assert response["Location"].startswith(login), f"{who} GET {url} went to {response['Location']}"
