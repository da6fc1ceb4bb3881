"""Property-based API checks from the published OpenAPI document: for every operation,
schemathesis generates valid and invalid requests, sends them in-process through the WSGI app
with the token of an RM who has a full portfolio, and checks that the API never answers 5xx,
that responses match the documented status codes and schemas, and that invalid input is
rejected. A bounded, deterministic number of examples per operation keeps it CI-sized."""

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, Phase, given, settings
from rest_framework.authtoken.models import Token
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.parameters import ParameterLocation
from schemathesis.specs.openapi.checks import (
    negative_data_rejection,
    response_schema_conformance,
)

from cem.wsgi import application

from .matrix_world import build_world

EXAMPLES_PER_OPERATION = 6


def invalid_body_rejected(ctx, response, case):
    """An invalid request body is refused with a 4xx. Invalid query strings are not held to
    this: django-filter ignores an empty filter by design."""
    if case.meta.phase.data.parameter_location == ParameterLocation.BODY:
        return negative_data_rejection(ctx, response, case)
    return None


CHECKS = {
    # status_code_conformance is left out until the schema documents 400/404 (it documents only 2xx).
    GenerationMode.POSITIVE: [not_a_server_error, response_schema_conformance],
    GenerationMode.NEGATIVE: [not_a_server_error, invalid_body_rejected],
}
# Known contract breaks, each with the exact fix, as {(mode, label): (reason, strict)}.
KNOWN_BREAKS: dict[tuple[str, str], tuple[str, bool]] = {}
# Id filters must refuse a value outside the database's integer range with a 400, not a 500.
ID_FILTERS = {
    "clients": "relationship_manager",
    "contacts": "client",
    "projects": "client",
    "touchpoints": "project",
    "commitments": "owner",
}
METHODS = ("get", "post", "put", "patch", "delete")
# The document served at /api/schema/, generated once at collection to name one test per operation.
SPEC = SchemaGenerator().get_schema(request=None, public=True)
OPERATIONS = [
    f"{method.upper()} {path}" for path, item in SPEC["paths"].items() for method in METHODS if method in item
]


@pytest.fixture(autouse=True)
def _keep_the_test_transaction_open():
    # The WSGI handler closes "old" database connections around each request; inside a test's
    # transaction that would close the connection (PostgreSQL). Django's test client does the same.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def token_header(owner, client_org, contact, project):
    build_world(owner=owner, client=client_org, contact=contact, project=project)
    return {"Authorization": f"Token {Token.objects.create(user=owner).key}"}


def exercise(operation, mode: GenerationMode, headers: dict) -> None:
    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def run(case):
        response = case.call(headers=headers)
        case.validate_response(response, checks=CHECKS[mode])

    run()


def test_the_served_document_is_the_one_tested(owner, api_as):
    served = api_as(owner).get("/api/schema/?format=json")

    assert served.status_code == 200
    assert sorted(served.json()["paths"]) == sorted(SPEC["paths"])


def cases() -> list:
    return [
        pytest.param(
            mode,
            label,
            id=f"{mode.value}-{label}",
            marks=[
                pytest.mark.xfail(
                    reason=KNOWN_BREAKS[mode.value, label][0], strict=KNOWN_BREAKS[mode.value, label][1]
                )
            ]
            if (mode.value, label) in KNOWN_BREAKS
            else [],
        )
        for label in OPERATIONS
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
    ]


@pytest.mark.parametrize(("mode", "label"), cases())
def test_the_api_keeps_its_published_contract(mode, label, token_header):
    schema = schemathesis.openapi.from_dict(SPEC)
    schema.app = application
    operation = schema.find_operation_by_label(label)

    exercise(operation, mode, token_header)


@pytest.mark.parametrize(("resource", "parameter"), ID_FILTERS.items())
def test_an_id_filter_too_large_for_the_database_is_refused(resource, parameter, owner, api_as):
    response = api_as(owner).get(f"/api/v1/{resource}/", {parameter: "1e40"})

    assert response.status_code == 400
