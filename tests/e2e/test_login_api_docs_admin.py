"""In a real browser: log in, read the API documentation (served from local assets only) and
find the projects in the back office."""

import pytest

from tests.e2e.browser import ARTIFACTS
from tests.factories import ProjectFactory


@pytest.mark.browser
def test_staff_log_in_read_the_api_docs_and_find_projects_in_the_admin(
    live_server, transactional_db, browser_page, admin_user, client_org
):
    ProjectFactory(client=client_org, name="华电风电二期 Huadian Wind Phase II", code="PF-E2E-1")
    page = browser_page
    outside_requests = []
    page.on(
        "request",
        lambda request: (
            outside_requests.append(request.url)
            if not request.url.startswith((live_server.url, "data:"))
            else None
        ),
    )

    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", "admin")
    page.fill("#id_password", "pass-word-123")
    with page.expect_navigation():
        page.click("main form button[type=submit]")
    page.screenshot(path=str(ARTIFACTS / "after-login.png"))
    assert "/accounts/login/" not in page.url, page.content()[:3000]

    page.goto(f"{live_server.url}/api/docs/")
    page.wait_for_selector(".swagger-ui .opblock-tag", timeout=20_000)
    assert page.locator(".opblock-tag", has_text="projects").count() >= 1
    page.screenshot(path=str(ARTIFACTS / "api-docs.png"), full_page=False)

    page.goto(f"{live_server.url}/admin/finance_projects/financingproject/")
    page.wait_for_selector("#result_list")
    assert page.locator("#result_list", has_text="PF-E2E-1").count() == 1
    assert page.locator("#result_list", has_text="华电风电二期").count() == 1
    page.screenshot(path=str(ARTIFACTS / "admin-projects.png"), full_page=True)

    assert outside_requests == []
