"""`/api/v1/alerts/`: scoped lists, filters, and acknowledge / snooze / assign."""

from datetime import timedelta

import pytest
from django.utils import timezone

from finance_projects.models import Alert
from tests.factories import AlertFactory, ProjectFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/alerts/"


@pytest.fixture
def alert(project):
    return AlertFactory(project=project, kind="commitment_missed", severity="critical", subject_id=7)


def test_an_alert_answers_with_its_subject_and_translated_labels(api_as, owner, alert):
    response = api_as(owner).get(f"{URL}{alert.pk}/", HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 200
    body = response.json()
    assert body["subject"] == {"type": "commitment", "id": 7}
    assert (body["kind"], body["kind_display"], body["severity"], body["project"]) == (
        "commitment_missed",
        "Commitment missed",
        "critical",
        alert.project_id,
    )
    assert body["is_open"] is True
    assert body["opened_at"].endswith("+08:00")


def test_login_is_required(api, alert):
    assert api.get(URL).status_code in (401, 403)


def test_the_list_holds_only_alerts_on_projects_the_caller_may_see(api_as, owner, outsider, alert):
    foreign = AlertFactory(project=ProjectFactory(client__relationship_manager=outsider))

    mine = api_as(owner).get(URL).json()
    assert [row["id"] for row in mine["results"]] == [alert.pk]
    assert mine["count"] == 1
    assert api_as(owner).get(f"{URL}{foreign.pk}/").status_code == 404
    assert api_as(outsider).get(f"{URL}{alert.pk}/").status_code == 404
    assert api_as(outsider).post(f"{URL}{alert.pk}/acknowledge/").status_code == 404


def test_filters_open_kind_severity_project_and_assignee(api_as, owner, manager, project, alert):
    resolved = AlertFactory(
        project=project, kind="update_overdue", severity="warning", resolved_at=timezone.now()
    )
    other_project = ProjectFactory(client=project.client)
    elsewhere = AlertFactory(project=other_project, kind="stage_overrun", severity="info", assignee=manager)
    client = api_as(owner)

    def ids(query):
        return {row["id"] for row in client.get(f"{URL}?{query}").json()["results"]}

    assert ids("open=true") == {alert.pk, elsewhere.pk}
    assert ids("open=false") == {resolved.pk}
    assert ids("kind=update_overdue") == {resolved.pk}
    assert ids("severity=critical&severity=info") == {alert.pk, elsewhere.pk}
    assert ids(f"project={other_project.pk}") == {elsewhere.pk}
    assert ids(f"assignee={manager.pk}") == {elsewhere.pk}
    assert client.get(f"{URL}?kind=nonsense").status_code == 400


def test_the_list_query_count_does_not_grow(api_as, owner, project, django_assert_max_num_queries):
    for _ in range(3):
        AlertFactory(project=project)
    client = api_as(owner)
    with django_assert_max_num_queries(4):
        client.get(URL)
    for _ in range(20):
        AlertFactory(project=project)
    with django_assert_max_num_queries(4):
        assert client.get(URL).json()["count"] == 23


def test_acknowledging_an_alert(api_as, owner, alert):
    response = api_as(owner).post(f"{URL}{alert.pk}/acknowledge/")

    assert response.status_code == 200
    assert response.json()["acknowledged_at"] is not None
    assert response.json()["acknowledged_by"] == owner.pk


def test_acknowledging_a_resolved_alert_is_a_clear_error(api_as, owner, project):
    resolved = AlertFactory(project=project, resolved_at=timezone.now())

    response = api_as(owner).post(f"{URL}{resolved.pk}/acknowledge/")

    assert response.status_code == 400
    assert "alert" in response.json()


def test_snoozing_an_alert(api_as, owner, alert):
    until = timezone.now() + timedelta(days=1)

    response = api_as(owner).post(f"{URL}{alert.pk}/snooze/", {"until": until.isoformat()}, format="json")

    assert response.status_code == 200
    alert.refresh_from_db()
    assert alert.snoozed_until == until


@pytest.mark.parametrize("until", ["", "tomorrow", "2001-01-01T00:00:00Z"])
def test_snoozing_into_the_past_or_with_no_date_is_refused(api_as, owner, alert, until):
    response = api_as(owner).post(f"{URL}{alert.pk}/snooze/", {"until": until}, format="json")

    assert response.status_code == 400
    assert "until" in response.json()
    alert.refresh_from_db()
    assert alert.snoozed_until is None


def test_assigning_an_alert_to_the_team_manager(api_as, owner, manager, alert):
    response = api_as(owner).post(f"{URL}{alert.pk}/assign/", {"assignee": manager.pk}, format="json")

    assert response.status_code == 200
    assert response.json()["assignee"] == manager.pk


def test_assigning_to_someone_who_cannot_see_the_project_is_refused(api_as, owner, outsider, alert):
    response = api_as(owner).post(f"{URL}{alert.pk}/assign/", {"assignee": outsider.pk}, format="json")

    assert response.status_code == 400
    assert "assignee" in response.json()
    alert.refresh_from_db()
    assert alert.assignee == owner


def test_assigning_to_an_unknown_user_is_refused(api_as, owner, alert):
    response = api_as(owner).post(f"{URL}{alert.pk}/assign/", {"assignee": 999999}, format="json")

    assert response.status_code == 400
    assert "assignee" in response.json()


def test_an_unknown_user_and_one_who_cannot_see_the_project_get_the_same_answer(
    api_as, owner, outsider, alert
):
    answers = [
        api_as(owner).post(f"{URL}{alert.pk}/assign/", {"assignee": user_id}, format="json")
        for user_id in (outsider.pk, 999999)
    ]
    assert [answer.status_code for answer in answers] == [400, 400]
    assert answers[0].json() == answers[1].json()


@pytest.mark.parametrize("spelled", [lambda pk: pk + 0.5, lambda pk: True], ids=["fraction", "boolean"])
def test_an_assignee_that_is_not_a_whole_number_is_refused(api_as, owner, manager, alert, spelled):
    # Each once read as a colleague's id: the manager's (True as 1, when that is theirs).
    payload = {"assignee": spelled(manager.pk)}
    response = api_as(owner).post(f"{URL}{alert.pk}/assign/", payload, format="json")
    assert response.status_code == 400
    assert "assignee" in response.json()
    alert.refresh_from_db()
    assert alert.assignee == owner


def test_department_staff_see_alerts_of_their_commitments_but_cannot_reassign(
    api_as, department_user, manager, alert, project
):
    from tests.factories import CommitmentFactory

    commitment = CommitmentFactory(project=project, owner=department_user)
    Alert.objects.filter(pk=alert.pk).update(subject_id=commitment.pk)
    client = api_as(department_user)

    assert client.get(f"{URL}{alert.pk}/").status_code == 200
    response = client.post(f"{URL}{alert.pk}/assign/", {"assignee": manager.pk}, format="json")
    assert response.status_code == 403


def test_alerts_cannot_be_created_or_deleted_through_the_api(api_as, owner, alert, project):
    client = api_as(owner)

    assert (
        client.post(URL, {"kind": "update_overdue", "project": project.pk}, format="json").status_code == 405
    )
    assert client.delete(f"{URL}{alert.pk}/").status_code == 405
    assert Alert.objects.count() == 1


@pytest.mark.parametrize("name", ["project", "assignee"])
def test_filtering_on_another_teams_row_answers_like_filtering_on_a_missing_one(
    api_as, outsider, alert, name
):
    client = api_as(outsider)
    existing = alert.project_id if name == "project" else alert.assignee_id

    someone_elses = client.get(URL, {name: existing})
    missing = client.get(URL, {name: 999_999})

    assert (someone_elses.status_code, missing.status_code) == (200, 200)
    assert someone_elses.json()["count"] == missing.json()["count"] == 0


def test_department_staff_do_not_see_the_other_alerts_of_a_project_they_hold_a_commitment_on(
    api_as, department_user, project
):
    from tests.factories import CommitmentFactory

    mine = CommitmentFactory(project=project, owner=department_user)
    theirs = CommitmentFactory(project=project)
    about_mine = AlertFactory(project=project, kind="commitment_missed", subject_id=mine.pk)
    handed_to_me = AlertFactory(
        project=project,
        kind="update_overdue",
        subject_type="project",
        subject_id=project.pk,
        assignee=department_user,
    )
    complaint_alert = AlertFactory(
        project=project, kind="complaint_ack_overdue", subject_type="complaint", subject_id=mine.pk
    )
    about_theirs = AlertFactory(project=project, kind="commitment_missed", subject_id=theirs.pk)
    client = api_as(department_user)

    listed = {row["id"] for row in client.get(URL).json()["results"]}

    assert listed == {about_mine.pk, handed_to_me.pk}
    assert client.get(f"{URL}{complaint_alert.pk}/").status_code == 404
    assert client.get(f"{URL}{about_theirs.pk}/").status_code == 404


@pytest.mark.parametrize("value", ["maybe", "2", "open"])
def test_a_yes_no_filter_with_another_value_is_refused_not_ignored(api_as, owner, alert, value):
    response = api_as(owner).get(f"{URL}?open={value}", HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 400
    assert response.json() == {"open": ["Use true or false."]}


@pytest.mark.parametrize("query", ["is_open=true", "status=open", "open=true&colour=red"])
def test_an_unknown_filter_is_refused_not_ignored(api_as, owner, alert, query):
    response = api_as(owner).get(f"{URL}?{query}", HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 400
    [(name, [message])] = response.json().items()
    assert name == query.split("&")[-1].split("=")[0]
    assert (
        message
        == "Unknown filter. This list accepts: assignee, kind, open, ordering, project, search, severity."
    )


@pytest.mark.parametrize("query", ["kind=", "severity=&kind=", "open=&project=&assignee="])
def test_a_filter_left_empty_filters_nothing_whichever_it_is(api_as, owner, project, alert, query):
    resolved = AlertFactory(project=project, resolved_at=timezone.now())

    response = api_as(owner).get(f"{URL}?{query}")

    assert response.status_code == 200
    assert {row["id"] for row in response.json()["results"]} == {alert.pk, resolved.pk}


@pytest.mark.parametrize("ordering", ["colour", "-colour", "opened_at,colour"])
def test_sorting_by_a_field_the_list_cannot_sort_by_is_refused(api_as, owner, alert, ordering):
    response = api_as(owner).get(URL, {"ordering": ordering}, HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 400
    assert response.json() == {
        "ordering": ["Cannot sort by that. Sort by: opened_at, last_seen_at, severity, resolved_at, id."]
    }


def test_paging_searching_and_sorting_are_still_accepted(api_as, owner, alert):
    query = {"page": 1, "page_size": 10, "ordering": "-last_seen_at,id", "search": "", "format": "json"}

    assert api_as(owner).get(URL, query).status_code == 200


@pytest.mark.parametrize("value, expected", [("1", True), ("Yes", True), ("0", False), ("FALSE", False)])
def test_a_yes_no_filter_also_takes_1_0_yes_and_no(api_as, owner, project, alert, value, expected):
    resolved = AlertFactory(project=project, resolved_at=timezone.now())

    rows = api_as(owner).get(f"{URL}?open={value}").json()["results"]

    assert [row["id"] for row in rows] == [alert.pk if expected else resolved.pk]


def test_a_snooze_too_far_ahead_is_refused_with_nothing_saved(api_as, owner, alert):
    until = (timezone.now() + timedelta(days=365)).isoformat()

    response = api_as(owner).post(f"{URL}{alert.pk}/snooze/", {"until": until}, HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 400
    assert response.json() == {"until": ["Snooze for 30 days at most."]}
    alert.refresh_from_db()
    assert alert.snoozed_until is None


def test_an_open_alert_a_scan_keeps_shows_the_scans_last_run_as_last_seen(api_as, owner, project):
    from finance_projects import scans

    project.next_update_due_at = timezone.now() - timedelta(days=1)
    project.save()
    first = timezone.now()
    scans.run_scan("update_overdue", at=first)
    kept = Alert.objects.get(kind="update_overdue")
    resolved = AlertFactory(project=project, kind="update_overdue", subject_id=0, resolved_at=first)
    later = first + timedelta(minutes=5)

    scans.run_scan("update_overdue", at=later)
    scans.run_scan("update_overdue", at=first)  # a late run of an earlier moment says nothing newer

    rows = {row["id"]: row for row in api_as(owner).get(f"{URL}?ordering=-last_seen_at").json()["results"]}
    assert list(rows) == [kept.pk, resolved.pk]
    assert rows[kept.pk]["last_seen_at"] == timezone.localtime(later).isoformat()
    assert rows[resolved.pk]["last_seen_at"] == timezone.localtime(resolved.last_seen_at).isoformat()
    kept.refresh_from_db()
    assert kept.last_seen_at == first  # the beats wrote nothing on the alert itself


def test_an_alert_no_scan_keeps_shows_its_own_last_seen(api_as, owner, alert):
    body = api_as(owner).get(f"{URL}{alert.pk}/").json()

    assert body["last_seen_at"] == timezone.localtime(alert.last_seen_at).isoformat()


def test_a_missing_alert_is_a_404_in_the_callers_language_without_the_model_name(api_as, owner):
    response = api_as(owner).get(f"{URL}999999/", HTTP_ACCEPT_LANGUAGE="zh-hans")

    assert response.status_code == 404
    assert response.json() == {"detail": "未找到。"}


def test_alerts_sort_by_severity_rank_most_urgent_first(api_as, owner, project):
    ids = {
        severity: AlertFactory(project=project, severity=severity).pk
        for severity in ("warning", "critical", "info")
    }

    rows = api_as(owner).get(URL, {"ordering": "-severity,id"}).json()["results"]

    assert [row["id"] for row in rows] == [ids["critical"], ids["warning"], ids["info"]]


def test_pages_sorted_by_severity_neither_repeat_nor_skip_alerts(api_as, owner, project):
    made = {AlertFactory(project=project, severity="warning").pk for _ in range(60)}
    api = api_as(owner)

    seen = [
        row["id"]
        for page in (1, 2, 3)
        for row in api.get(URL, {"ordering": "-severity", "page_size": 25, "page": page}).json()["results"]
    ]

    assert sorted(seen) == sorted(made)


def test_an_alert_a_scan_resolves_keeps_the_last_run_that_saw_it_as_last_seen(api_as, owner, project):
    from finance_projects import scans
    from finance_projects.services import touchpoint_log

    project.next_update_due_at = timezone.now() - timedelta(days=1)
    project.save()
    opened_at = timezone.now()
    scans.run_scan("update_overdue", at=opened_at)
    still_overdue_at = opened_at + timedelta(minutes=5)
    scans.run_scan("update_overdue", at=still_overdue_at)
    touchpoint_log(
        project=project,
        channel="call",
        occurred_at=timezone.now(),
        summary="Progress call",
        is_client_update=True,
        logged_by=owner,
    )

    scans.run_scan("update_overdue", at=still_overdue_at + timedelta(minutes=5))

    alert = Alert.objects.get(kind="update_overdue")
    body = api_as(owner).get(f"{URL}{alert.pk}/").json()
    assert alert.resolved_at is not None
    assert body["last_seen_at"] == timezone.localtime(still_overdue_at).isoformat()
