"""The OpenAPI schema is valid and documents the core endpoints and their actions."""

import yaml
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.validation import validate_schema


def test_the_schema_is_valid_openapi_3(db):
    schema = SchemaGenerator().get_schema(request=None, public=True)

    validate_schema(schema)


def test_the_core_actions_are_documented_with_their_payloads(admin_user, api_as):
    response = api_as(admin_user).get("/api/schema/")

    assert response.status_code == 200
    schema = yaml.safe_load(response.content)
    paths = schema["paths"]
    for path in ["clients", "contacts", "projects", "touchpoints", "commitments"]:
        assert f"/api/v1/{path}/" in paths
    move = paths["/api/v1/projects/{id}/move-stage/"]["post"]
    assert move["tags"] == ["projects"]
    assert move["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith("/MoveStageRequest")
    renegotiate = paths["/api/v1/commitments/{id}/renegotiate/"]["post"]
    assert "201" in renegotiate["responses"]
    assert "/api/v1/commitments/{id}/fulfil/" in paths
    assert "/api/v1/commitments/{id}/cancel/" in paths
    parameters = {p["name"] for p in paths["/api/v1/commitments/"]["get"]["parameters"]}
    assert {"missed", "due_after", "due_before", "status", "kind", "owner", "project"} <= parameters


def test_the_docs_page_loads_swagger_from_local_assets(admin_user, client):
    client.force_login(admin_user)

    page = client.get("/api/docs/").content.decode()

    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/" in page
    assert "cdn" not in page.lower()
