from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from finance_projects.models import Commitment
from tests.factories import CommitmentFactory, ProjectFactory, UserFactory


def _future(days=7):
    return (timezone.now() + timedelta(days=days)).isoformat()


def test_an_rm_records_a_commitment_they_own_by_default(api_as, owner, project):
    response = api_as(owner).post(
        "/api/v1/commitments/",
        {"project": project.pk, "title": "发送贷款合同初稿", "kind": "document", "due_at": _future()},
        format="json",
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["owner"], body["status"], body["is_missed"], body["fulfilled_at"]) == (
        owner.pk,
        "open",
        False,
        None,
    )
    assert body["department"] == owner.department
    assert body["due_at"].endswith("+08:00")


def test_a_commitment_handed_to_a_department_takes_its_department(api_as, owner, project, department_user):
    response = api_as(owner).post(
        "/api/v1/commitments/",
        {"project": project.pk, "title": "Legal opinion", "owner": department_user.pk, "due_at": _future()},
        format="json",
    )

    assert response.status_code == 201
    assert response.json()["department"] == "legal"


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"due_at": "2020-01-01T00:00:00+08:00"}, "due_at"),
        ({"due_at": "tomorrow"}, "due_at"),
        ({"kind": "promise"}, "kind"),
        ({"title": ""}, "title"),
    ],
)
def test_bad_commitment_input_names_the_field_and_saves_nothing(api_as, owner, project, overrides, field):
    data = {"project": project.pk, "title": "Rate confirmation", "kind": "pricing", "due_at": _future()}
    data.update(overrides)

    response = api_as(owner).post("/api/v1/commitments/", data, format="json")

    assert response.status_code == 400
    assert field in response.json()
    assert not Commitment.objects.exists()


def test_a_commitment_on_an_unseen_project_or_for_an_unseen_owner_is_a_400_on_that_field(
    api_as, owner, project, outsider
):
    foreign = ProjectFactory(client__relationship_manager=outsider)
    api = api_as(owner)

    on_foreign = api.post(
        "/api/v1/commitments/", {"project": foreign.pk, "title": "X", "due_at": _future()}, format="json"
    )
    for_outsider = api.post(
        "/api/v1/commitments/",
        {"project": project.pk, "title": "X", "owner": outsider.pk, "due_at": _future()},
        format="json",
    )

    assert on_foreign.status_code == 400
    assert "project" in on_foreign.json()
    assert for_outsider.status_code == 400
    assert "owner" in for_outsider.json()
    assert not Commitment.objects.exists()


def test_a_commitment_can_be_reassigned_but_its_date_only_renegotiated(api_as, owner, teammate, project):
    commitment = CommitmentFactory(project=project)
    api = api_as(owner)

    reassigned = api.patch(f"/api/v1/commitments/{commitment.pk}/", {"owner": teammate.pk}, format="json")
    redated = api.patch(f"/api/v1/commitments/{commitment.pk}/", {"due_at": _future(30)}, format="json")

    assert reassigned.status_code == 200
    assert reassigned.json()["owner"] == teammate.pk
    assert redated.status_code == 400
    assert "due_at" in redated.json()


class TestActions:
    def test_fulfil_marks_it_fulfilled_once(self, api_as, owner, project):
        commitment = CommitmentFactory(project=project)
        api = api_as(owner)

        first = api.post(f"/api/v1/commitments/{commitment.pk}/fulfil/")
        second = api.post(f"/api/v1/commitments/{commitment.pk}/fulfil/")

        assert first.status_code == 200
        assert first.json()["status"] == "fulfilled"
        assert first.json()["fulfilled_at"] is not None
        assert second.status_code == 400
        assert "status" in second.json()

    def test_renegotiate_answers_with_the_successor(self, api_as, owner, project):
        commitment = CommitmentFactory(project=project)
        new_due = timezone.now() + timedelta(days=20)

        response = api_as(owner).post(
            f"/api/v1/commitments/{commitment.pk}/renegotiate/",
            {"new_due_at": new_due.isoformat(), "reason": "Client asked for more time"},
            format="json",
        )

        assert response.status_code == 201, response.content
        body = response.json()
        assert body["id"] != commitment.pk
        assert body["renegotiated_from"] == commitment.pk
        assert body["status"] == "open"
        commitment.refresh_from_db()
        assert commitment.status == "renegotiated"
        assert commitment.close_reason == "Client asked for more time"

    @pytest.mark.parametrize(
        ("payload", "field"),
        [
            ({"new_due_at": "2020-01-01T00:00:00Z", "reason": "late"}, "new_due_at"),
            ({"reason": "late"}, "new_due_at"),
            ({"new_due_at": "2099-01-01T00:00:00Z", "reason": ""}, "reason"),
        ],
    )
    def test_renegotiate_without_a_future_date_or_a_reason_is_refused(
        self, api_as, owner, project, payload, field
    ):
        commitment = CommitmentFactory(project=project)

        response = api_as(owner).post(
            f"/api/v1/commitments/{commitment.pk}/renegotiate/", payload, format="json"
        )

        assert response.status_code == 400
        assert field in response.json()
        assert Commitment.objects.count() == 1
        commitment.refresh_from_db()
        assert commitment.status == "open"

    def test_cancel_needs_a_reason(self, api_as, owner, project):
        commitment = CommitmentFactory(project=project)
        api = api_as(owner)

        refused = api.post(f"/api/v1/commitments/{commitment.pk}/cancel/", {"reason": " "}, format="json")
        done = api.post(
            f"/api/v1/commitments/{commitment.pk}/cancel/", {"reason": "Deal withdrawn"}, format="json"
        )

        assert refused.status_code == 400
        assert "reason" in refused.json()
        assert done.status_code == 200
        assert done.json()["status"] == "cancelled"

    def test_department_staff_fulfil_what_they_own_and_nothing_else(self, api_as, project, department_user):
        theirs = CommitmentFactory(project=project, owner=department_user)
        not_theirs = CommitmentFactory(project=project)
        api = api_as(department_user)

        assert api.post(f"/api/v1/commitments/{not_theirs.pk}/fulfil/").status_code == 403
        assert api.post(f"/api/v1/commitments/{theirs.pk}/renegotiate/", {}).status_code == 403
        assert api.post(f"/api/v1/commitments/{theirs.pk}/cancel/", {"reason": "x"}).status_code == 403
        assert api.post(f"/api/v1/commitments/{theirs.pk}/fulfil/").status_code == 200
        not_theirs.refresh_from_db()
        assert not_theirs.status == "open"

    @pytest.mark.parametrize("action", ["fulfil", "renegotiate", "cancel"])
    def test_an_outsider_gets_404_on_every_action(self, api_as, outsider, project, action):
        commitment = CommitmentFactory(project=project)

        response = api_as(outsider).post(f"/api/v1/commitments/{commitment.pk}/{action}/", {})

        assert response.status_code == 404


class TestCommitmentFilters:
    @pytest.fixture
    def book(self, project, owner, department_user):
        now = timezone.now()
        with time_machine.travel(now - timedelta(days=10), tick=False):
            missed = CommitmentFactory(project=project, due_at=now - timedelta(days=1), kind="schedule")
            done = CommitmentFactory(project=project, due_at=now - timedelta(days=2), kind="document")
        done.status, done.fulfilled_at = "fulfilled", now - timedelta(days=3)
        done.save()
        soon = CommitmentFactory(project=project, due_at=now + timedelta(days=1), owner=department_user)
        later = CommitmentFactory(project=project, due_at=now + timedelta(days=30), kind="pricing")
        return {"missed": missed, "done": done, "soon": soon, "later": later, "now": now}

    def _ids(self, api, query):
        response = api.get("/api/v1/commitments/", query)
        assert response.status_code == 200, response.content
        return {row["id"] for row in response.json()["results"]}

    def test_missed_means_open_and_past_due(self, api_as, owner, book):
        api = api_as(owner)

        assert self._ids(api, {"missed": "true"}) == {book["missed"].pk}
        assert self._ids(api, {"missed": "false"}) == {book["done"].pk, book["soon"].pk, book["later"].pk}
        body = api.get(f"/api/v1/commitments/{book['missed'].pk}/").json()
        assert body["is_missed"] is True

    def test_a_commitment_becomes_missed_when_its_due_time_passes(self, api_as, owner, book):
        with time_machine.travel(book["now"] + timedelta(days=2)):
            assert book["soon"].pk in self._ids(api_as(owner), {"missed": "true"})

    def test_filters_by_status_kind_owner_project_and_due_range(self, api_as, owner, department_user, book):
        api = api_as(owner)
        now = book["now"]

        assert self._ids(api, {"status": "fulfilled"}) == {book["done"].pk}
        assert self._ids(api, {"kind": "pricing"}) == {book["later"].pk}
        assert self._ids(api, {"owner": department_user.pk}) == {book["soon"].pk}
        assert self._ids(api, {"project": book["soon"].project_id}) == {
            c.pk for c in book.values() if c != now
        }
        window = {"due_after": now.isoformat(), "due_before": (now + timedelta(days=7)).isoformat()}
        assert self._ids(api, window) == {book["soon"].pk}

    def test_ordering_by_due_date(self, api_as, owner, book):
        dues = [
            row["due_at"]
            for row in api_as(owner).get("/api/v1/commitments/?ordering=-due_at").json()["results"]
        ]

        assert dues == sorted(dues, reverse=True)


@pytest.mark.parametrize("size", [2, 25])
def test_the_commitment_list_runs_a_fixed_number_of_queries(
    api_as, owner, project, django_assert_max_num_queries, size
):
    owners = [owner, UserFactory(team=owner.team)]
    for index in range(size):
        CommitmentFactory(project=project, owner=owners[index % 2])
    api = api_as(owner)

    with django_assert_max_num_queries(2):
        response = api.get("/api/v1/commitments/")

    assert response.json()["count"] == size


def test_a_due_date_filter_with_an_extreme_offset_is_compared_in_utc(api_as, owner, project):
    from tests.factories import CommitmentFactory

    CommitmentFactory(project=project)

    response = api_as(owner).get("/api/v1/commitments/", {"due_before": "1017-09-22T07:36:30-21:39"})

    assert response.status_code == 200
    assert response.json()["count"] == 0


def test_a_due_date_filter_that_cannot_be_expressed_in_utc_is_refused(api_as, owner):
    response = api_as(owner).get("/api/v1/commitments/", {"due_after": "0001-01-01T00:00:00+10:00"})

    assert response.status_code == 400
    assert "due_after" in response.json()


def test_a_department_that_is_not_one_of_the_banks_is_refused_on_its_field(api_as, owner, project):
    answer = api_as(owner).post(
        "/api/v1/commitments/",
        {
            "project": project.pk,
            "title": "Term sheet",
            "due_at": "2030-01-01T10:00:00+08:00",
            "department": "marketing",
        },
        format="json",
    )

    assert answer.status_code == 400
    assert "department" in answer.json()
    assert not project.commitments.exists()
