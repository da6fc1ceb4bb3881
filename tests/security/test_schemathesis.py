"""Property-based API checks from the published OpenAPI document: for every operation,
schemathesis generates valid and invalid requests, sends them in-process through the WSGI app
with the token of an RM who has a full portfolio, and checks that the API never answers 5xx,
that responses match the documented status codes and schemas, and that invalid input is
rejected. A bounded, deterministic number of examples per operation keeps it CI-sized."""

import pytest
import schemathesis
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, Phase, given, settings
from rest_framework.authtoken.models import Token
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from cem.wsgi import application

from .matrix_world import build_world

EXAMPLES_PER_OPERATION = 6
CHECKS = [not_a_server_error, response_schema_conformance, negative_data_rejection]
METHODS = ("get", "post", "put", "patch", "delete")
# The document served at /api/schema/, generated once at collection to name one test per operation.
SPEC = SchemaGenerator().get_schema(request=None, public=True)
OPERATIONS = [f"{method.upper()} {path}" for path, item in SPEC["paths"].items() for method in METHODS if method in item]


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
        case.validate_response(response, checks=CHECKS)

    run()


def test_the_served_document_is_the_one_tested(owner, api_as):
    served = api_as(owner).get("/api/schema/?format=json")

    assert served.status_code == 200
    assert sorted(served.json()["paths"]) == sorted(SPEC["paths"])


@pytest.mark.parametrize("label", OPERATIONS)
@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=lambda m: m.value)
def test_the_api_keeps_its_published_contract(label, mode, token_header):
    schema = schemathesis.openapi.from_dict(SPEC)
    schema.app = application
    operation = schema.find_operation_by_label(label)

    exercise(operation, mode, token_header)
