"""Pages and API: works, login required, outsider 404, read-only refused, bad input named."""

import io
from datetime import timedelta
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from django.urls import reverse
from django.utils import timezone

from complaints.models import Complaint, Status
from finance_projects.tokens import hash_token
from tests.factories import ComplaintFactory

pytestmark = pytest.mark.django_db


def test_the_list_shows_the_teams_complaints_and_hides_others(client, complaint, manager, outsider):
    client.force_login(manager)
    response = client.get(reverse("complaints:list"), {"status": "open"})
    assert response.status_code == 200
    assert complaint.reference in response.content.decode()
    client.force_login(outsider)
    assert complaint.reference not in client.get(reverse("complaints:list")).content.decode()


def test_pages_need_a_login(client, complaint):
    for url in (
        reverse("complaints:list"),
        reverse("complaints:detail", args=[complaint.pk]),
        reverse("complaints:reports"),
    ):
        assert client.get(url).status_code == 302


def test_an_outsider_gets_404_on_the_page_and_the_actions(client, complaint, outsider):
    client.force_login(outsider)
    assert client.get(reverse("complaints:detail", args=[complaint.pk])).status_code == 404
    response = client.post(reverse("complaints:action", args=[complaint.pk, "acknowledge"]))
    assert response.status_code == 404


def test_the_detail_page_shows_the_timeline_with_a_fixed_number_of_queries(
    client, resolved, teammate, django_assert_max_num_queries
):
    complaint = resolved
    client.force_login(teammate)
    with django_assert_max_num_queries(25):
        response = client.get(reverse("complaints:detail", args=[complaint.pk]))
    assert response.status_code == 200
    assert 'id="timeline"' in response.content.decode()


def test_department_staff_may_read_nothing_they_are_not_assigned(client, complaint, department_user):
    client.force_login(department_user)
    assert client.get(reverse("complaints:detail", args=[complaint.pk])).status_code == 404


def test_acknowledging_through_the_page(client, complaint, manager):
    client.force_login(manager)
    response = client.post(reverse("complaints:action", args=[complaint.pk, "acknowledge"]))
    assert response.status_code == 302
    complaint.refresh_from_db()
    assert complaint.status == Status.ACKNOWLEDGED


def test_resolving_without_a_response_re_renders_with_the_reason(client, acknowledged, teammate):
    client.force_login(teammate)
    response = client.post(
        reverse("complaints:action", args=[acknowledged.pk, "resolve"]),
        {"response_text": "", "response_channel": "email", "root_cause": "external"},
    )
    assert response.status_code == 400
    assert "Record the response given to the client" in response.content.decode()
    acknowledged.refresh_from_db()
    assert acknowledged.status == Status.ACKNOWLEDGED


def test_the_client_page_shows_status_and_next_deadline_in_the_contacts_language(client, complaint):
    token = "t" * 43
    complaint.links.create(
        token_hash=hash_token(token),
        expires_at=complaint.received_at + timedelta(days=90),
    )
    response = client.get(f"/c/{token}/")
    body = response.content.decode()
    assert response.status_code == 200
    assert complaint.reference in body
    assert "新" in body  # status "new" in Chinese, the contact's language
    assert client.get(f"/c/{token}/").status_code == 200  # never consumed
    assert client.get("/c/" + "x" * 43 + "/").status_code == 404


def client_link(complaint) -> str:
    token = "t" * 43
    complaint.links.create(
        token_hash=hash_token(token), expires_at=complaint.received_at + timedelta(days=90)
    )
    return f"/c/{token}/"


def test_the_english_link_renders_the_client_page_in_english(client, complaint):
    url = client_link(complaint)  # the contact prefers Simplified Chinese
    chinese = client.get(url).content.decode()
    assert "后续安排" in chinese
    assert 'href="?lang=en"' in chinese

    english = client.get(url + "?lang=en")

    body = english.content.decode()
    assert english.status_code == 200
    assert '<html lang="en">' in body
    assert english["Content-Language"] == "en"
    assert "What happens next" in body
    assert "后续安排" not in body
    assert 'href="?lang=zh-hans"' in body


def test_the_chinese_link_renders_the_client_page_in_chinese(client, complaint):
    complaint.contact.language = "en"
    complaint.contact.save(update_fields=["language"])
    url = client_link(complaint)
    assert "What happens next" in client.get(url).content.decode()

    chinese = client.get(url + "?lang=zh-hans")

    body = chinese.content.decode()
    assert '<html lang="zh-hans">' in body
    assert chinese["Content-Language"] == "zh-hans"
    assert "后续安排" in body


def test_the_client_page_has_no_form_posting_to_the_sites_language_switch(client, complaint):
    body = client.get(client_link(complaint)).content.decode()

    # Browsers post with `Origin: null` from this no-referrer page, which set_language refuses.
    assert "/i18n/setlang/" not in body
    assert "<form" not in body


def test_an_unknown_language_on_the_client_page_falls_back_to_the_contacts(client, complaint):
    response = client.get(client_link(complaint), {"lang": "xx"}, HTTP_ACCEPT_LANGUAGE="en")

    body = response.content.decode()
    assert response.status_code == 200
    assert '<html lang="zh-hans">' in body
    assert "后续安排" in body
    assert response["Content-Language"] == "zh-hans"
    assert 'lang="xx"' not in body


def test_reports_and_exports_are_scoped_to_the_viewer(client, resolved, teammate, outsider):
    client.force_login(teammate)
    assert client.get(reverse("complaints:reports")).status_code == 200
    csv = client.get(reverse("complaints:export", args=["csv"])).content.decode("utf-8-sig")
    assert resolved.reference in csv
    xlsx = client.get(reverse("complaints:export", args=["xlsx"]))
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx.content)).active
    assert sheet.cell(row=2, column=1).value == resolved.reference
    client.force_login(outsider)
    assert resolved.reference not in client.get(reverse("complaints:export", args=["csv"])).content.decode(
        "utf-8-sig"
    )


# --- API -----------------------------------------------------------------------------------


def test_api_lists_only_visible_complaints(api_as, complaint, manager, teammate, outsider):
    assert api_as(teammate).get("/api/v1/complaints/").json()["count"] == 0
    assert api_as(manager).get("/api/v1/complaints/").json()["count"] == 1
    assert api_as(outsider).get("/api/v1/complaints/").json()["count"] == 0
    assert api_as(outsider).get(f"/api/v1/complaints/{complaint.pk}/").status_code == 404
    assert api_as(outsider).post(f"/api/v1/complaints/{complaint.pk}/acknowledge/").status_code == 404


def test_api_creates_a_complaint_through_the_service(api_as, project, contact, owner):
    response = api_as(owner).post(
        "/api/v1/complaints/",
        {
            "project": project.pk,
            "contact": contact.pk,
            "channel": "phone",
            "category": "service_attitude",
            "severity": "high",
            "description": "The analyst was rude on the phone.",
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert response.json()["reference"].startswith("CP-")
    assert response.json()["ack_due_at"]


def test_api_refuses_another_teams_project(api_as, project, contact, outsider):
    response = api_as(outsider).post(
        "/api/v1/complaints/",
        {
            "project": project.pk,
            "contact": contact.pk,
            "channel": "phone",
            "category": "service_attitude",
            "description": "x",
        },
        format="json",
    )
    assert response.status_code == 400
    assert "project" in response.json()


def test_api_life_cycle_and_refusals(api_as, complaint, manager):
    api = api_as(manager)
    base = f"/api/v1/complaints/{complaint.pk}"
    assert "status" in api.post(f"{base}/close/", {"client_confirmed": True}, format="json").json()
    assert api.post(f"{base}/acknowledge/").json()["status"] == "acknowledged"
    assert api.post(f"{base}/extend/", {"reason": "Complex."}, format="json").json()["allowed_days"] == 30
    response = api.post(f"{base}/resolve/", {"response_text": "", "response_channel": "email"}, format="json")
    assert response.status_code == 400 and "response_text" in response.json()
    response = api.post(
        f"{base}/resolve/",
        {"response_text": "Sorry; fixed.", "response_channel": "email", "root_cause": "process_design"},
        format="json",
    )
    assert response.json()["status"] == "resolved"
    assert api.get(f"/api/v1/complaint-followups/?complaint={complaint.pk}").json()["count"] == 2
    assert api.post(f"{base}/close/", {"client_confirmed": True}, format="json").json()["status"] == "closed"
    response = api.patch(f"{base}/", {"severity": "critical"}, format="json")
    assert response.status_code == 400
    assert "read-only" in response.json()["status"][0]
    assert (
        api.post(f"{base}/reopen/", {"reason": "Client unhappy."}, format="json").json()["status"]
        == "reopened"
    )


def test_api_recovery_actions_are_scoped(api_as, acknowledged, owner, teammate, outsider, department_user):
    response = api_as(teammate).post(
        "/api/v1/complaint-actions/",
        {
            "complaint": acknowledged.pk,
            "kind": "apology",
            "description": "Call the CFO.",
            "owner": owner.pk,
            "due_at": "2026-03-05T10:00:00+08:00",
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    action_id = response.json()["id"]
    assert api_as(outsider).get(f"/api/v1/complaint-actions/{action_id}/").status_code == 404
    assert api_as(teammate).post(f"/api/v1/complaint-actions/{action_id}/complete/").json()["done_at"]


def test_a_read_only_user_cannot_act_on_a_visible_complaint(api_as, complaint, department_user):
    from tests.factories import RecoveryActionFactory

    RecoveryActionFactory(complaint=complaint, owner=department_user)
    assert api_as(department_user).get(f"/api/v1/complaints/{complaint.pk}/").status_code == 200
    assert api_as(department_user).post(f"/api/v1/complaints/{complaint.pk}/acknowledge/").status_code == 403
    assert Complaint.objects.get(pk=complaint.pk).status == Status.NEW


@pytest.mark.parametrize(
    ("url", "name"),
    [
        ("/api/v1/complaints/", "project"),
        ("/api/v1/complaints/", "owner"),
        ("/api/v1/complaint-actions/", "complaint"),
        ("/api/v1/complaint-actions/", "owner"),
        ("/api/v1/complaint-followups/", "complaint"),
    ],
)
def test_filtering_on_another_teams_row_answers_like_filtering_on_a_missing_one(
    api_as, acknowledged, teammate, outsider, url, name
):
    existing = {"project": acknowledged.project_id, "owner": teammate.pk, "complaint": acknowledged.pk}[name]
    client = api_as(outsider)

    someone_elses = client.get(url, {name: existing})
    missing = client.get(url, {name: 999_999})

    assert (someone_elses.status_code, missing.status_code) == (200, 200)
    assert someone_elses.json()["count"] == missing.json()["count"] == 0


def test_a_commitment_on_the_project_does_not_show_department_staff_its_complaints(
    api_as, client, complaint, department_user
):
    from tests.factories import CommitmentFactory

    CommitmentFactory(project=complaint.project, owner=department_user)

    assert api_as(department_user).get(f"/api/v1/complaints/{complaint.pk}/").status_code == 404
    assert api_as(department_user).get("/api/v1/complaints/").json()["count"] == 0
    client.force_login(department_user)
    assert client.get(reverse("complaints:detail", args=[complaint.pk])).status_code == 404


def test_api_sorts_complaints_by_severity_rank_with_ties_newest_first(api_as, project, contact, manager):
    now = timezone.now()
    made = {}
    # Each one received an hour after the one before; a severity's newest is listed first.
    for hours, severity in enumerate(["medium", "high", "low", "critical", "high", "low"]):
        complaint = ComplaintFactory(
            project=project, contact=contact, severity=severity, received_at=now - timedelta(hours=10 - hours)
        )
        made.setdefault(severity, []).insert(0, complaint.pk)
    api = api_as(manager)

    def listed(ordering):
        response = api.get("/api/v1/complaints/", {"ordering": ordering})
        assert response.status_code == 200
        return [row["id"] for row in response.json()["results"]]

    assert listed("-severity") == [*made["critical"], *made["high"], *made["medium"], *made["low"]]
    assert listed("severity") == [*made["low"], *made["medium"], *made["high"], *made["critical"]]


def test_the_export_reads_like_the_pages_headings_labels_and_local_minutes(client, resolved, manager):
    manager.time_zone = "Asia/Shanghai"
    manager.save()
    client.force_login(manager)

    text = client.get(reverse("complaints:export", args=["csv"]), HTTP_ACCEPT_LANGUAGE="en").content
    header, row = text.decode("utf-8-sig").splitlines()[:2]

    assert header.startswith("Reference,Received at (Asia/Shanghai),Channel,Category,Severity,Status,")
    received = timezone.localtime(resolved.received_at, ZoneInfo("Asia/Shanghai")).strftime("%Y-%m-%d %H:%M")
    assert row.startswith(f"{resolved.reference},{received},Email,Late information,Medium,Resolved,")
