"""The early-warning scans against their own rules: after any run of ordinary edits, one beat leaves
open exactly the alerts each rule's candidates query lists, and a second beat at the same moment
changes nothing.

A beat hands only the subjects whose stored severity no longer matches the rule to the alert
engine; an edit that changes a verdict without any change range listing the subject would leave
an alert wrong for good. Random sequences of service calls look for such an edit, with the
candidates query itself as the oracle. Seeds are fixed; a failure names the seed and the steps.
"""

import random
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import connection
from django.urls import reverse

from finance_projects import scans, services
from finance_projects.alerts import ScanResult, alert_acknowledge
from finance_projects.models import (
    DORMANT_SEVERITY,
    Alert,
    Commitment,
    CommitmentKind,
    FinancingProject,
    ProjectStatus,
    Stage,
    StageDefinition,
    StageTransition,
)
from tests.factories import ClientFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2025, 3, 10, 2, 0, tzinfo=UTC)
KINDS = ["update_overdue", "commitment_due_soon", "commitment_missed", "stage_overrun"]
SEEDS = range(30)
STEPS = 25

# --- the oracle ----------------------------------------------------------------------------


def candidate_rows(kind, at):
    sql, params = scans.SCAN_REGISTRY[kind].candidates(at)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return sorted((row[1], row[2], row[3]) for row in cursor.fetchall())


def open_rows(kind):
    return sorted(
        Alert.objects.filter(kind=kind, resolved_at__isnull=True).values_list(
            "subject_id", "severity", "message"
        )
    )


def stored_alerted(kind):
    """The stored severities that stand for an open alert, by subject."""
    table, column = scans.SCAN_REGISTRY[kind].mirror
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id, {quote(column)} FROM {quote(table)} WHERE {quote(column)} NOT IN (%s, %s)",
            ["", DORMANT_SEVERITY],
        )
        return dict(cursor.fetchall())


def snapshot():
    """Every alert and every stored severity, to tell that a run wrote nothing."""
    return list(Alert.objects.order_by("pk").values()), {kind: stored_alerted(kind) for kind in KINDS}


def difference(expected, actual):
    expected, actual = set(expected), set(actual)
    return f"missing {sorted(expected - actual)}, extra {sorted(actual - expected)}"


def beat(at, where):
    """Run each scan at `at` and check the invariant; `where` says how we got here."""
    first = {kind: scans.run_scan(kind, at=at) for kind in KINDS}
    for kind in KINDS:
        expected, actual = candidate_rows(kind, at), open_rows(kind)
        assert actual == expected, f"{kind} at {at.isoformat()}: {difference(expected, actual)}\n{where()}"
        assert first[kind].opened + first[kind].kept == len(actual), f"{kind}: {first[kind]}\n{where()}"
        severities, stored = {subject: severity for subject, severity, _ in actual}, stored_alerted(kind)
        assert stored == severities, f"{kind} stored {stored}, open alerts {severities}\n{where()}"
    before = snapshot()
    second = {kind: scans.run_scan(kind, at=at) for kind in KINDS}
    assert second == {kind: ScanResult(opened=0, kept=len(open_rows(kind)), resolved=0) for kind in KINDS}, (
        f"second run at {at.isoformat()}\n{where()}"
    )
    assert snapshot() == before, f"the second run at {at.isoformat()} wrote\n{where()}"


# --- the portfolio and the edits -----------------------------------------------------------


class Portfolio:
    """Ordinary edits of a small portfolio, drawn from one seeded generator, each through the
    service (or the plain save) that the API or the admin would use."""

    def __init__(self, rng, traveller, settings, *, owner, manager, clients):
        self.rng, self.traveller, self.settings = rng, traveller, settings
        self.owner, self.manager, self.clients = owner, manager, clients
        self.clock = NOW
        self.counter = 0
        self.trace = []

    def where(self):
        return "steps:\n" + "\n".join(f"  {step}" for step in self.trace)

    def note(self, text):
        self.trace.append(f"[{self.clock.isoformat()}] {text}")

    def move_clock(self, to):
        self.clock = to
        self.traveller.move_to(to)

    def fresh(self):
        self.counter += 1
        return self.counter

    def pick(self, queryset):
        rows = list(queryset.order_by("pk"))
        return self.rng.choice(rows) if rows else None

    def due_in(self):
        """A due date before, inside or after the due-soon window (48 hours unless changed)."""
        rng = self.rng
        span = rng.choice(
            [
                timedelta(minutes=rng.randint(1, 59)),
                timedelta(hours=rng.uniform(1, 30)),
                timedelta(hours=rng.uniform(30, 60)),
                timedelta(days=rng.uniform(3, 8)),
            ]
        )
        return self.clock + span + timedelta(microseconds=rng.randint(0, 999_999))

    # Building: projects opened over the twelve days before NOW, in time order.

    def build(self, projects=6, commitments=4):
        rng = self.rng
        opened = sorted(NOW - timedelta(days=rng.uniform(1, 12)) for _ in range(projects))
        for index, at in enumerate(opened):
            self.move_clock(at)
            project = services.project_create(
                client=self.clients[index % len(self.clients)],
                name=f"Project {index}",
                code=f"PF-{index}",
                amount=100,
                currency="CNY",
                relationship_manager=self.clients[index % len(self.clients)].relationship_manager,
                created_by=self.owner,
                stage=rng.choice(Stage.values[:-1]),
                update_cadence_days=rng.randint(1, 7),
            )
            self.note(f"project_create {project.code} stage={project.stage}")
            for _ in range(commitments):
                # Due around NOW, where the beats start: some already past, some in the window.
                due = NOW + timedelta(hours=rng.uniform(-48, 96), microseconds=rng.randint(0, 999_999))
                self.commitment_create(project, due=max(due, at + timedelta(minutes=1)))
            if rng.random() < 0.5:
                self.touchpoint(project)
            status = rng.choice(["active", "active", "active", "active", "on_hold", "closed", "lost"])
            if status != "active":
                self.call(
                    f"project_update {project.code} status -> {status}",
                    services.project_update,
                    project=project,
                    status=status,
                )
        for definition in StageDefinition.objects.order_by("stage"):
            definition.expected_days = rng.randint(1, 8)
            definition.save()
        self.note(
            "expected_days "
            + ", ".join(f"{d.stage}={d.expected_days}" for d in StageDefinition.objects.order_by("stage"))
        )
        self.move_clock(NOW)

    def call(self, text, service, **kwargs):
        try:
            result = service(**kwargs)
        except ValidationError as error:
            self.note(f"{text}: rejected {error.message_dict}")
            return None
        self.note(text)
        return result

    # The edits.

    def advance_and_beat(self):
        rng = self.rng
        step = rng.choice(
            [
                timedelta(minutes=rng.randint(1, 59)),
                timedelta(hours=rng.uniform(1, 12)),
                timedelta(days=rng.uniform(0.5, 4)),
            ]
        )
        self.move_clock(self.clock + step + timedelta(microseconds=rng.randint(0, 999_999)))
        self.note("beat")
        beat(self.clock, self.where)

    def deadlines(self):
        """Every moment at which some rule's verdict changes, as the rules state them."""
        hours = timedelta(hours=self.settings.CEM.get("COMMITMENT_DUE_SOON_HOURS", 48))
        for due in Commitment.objects.filter(status="open").values_list("due_at", flat=True):
            yield from (due, due - hours / 2, due - hours)
        for due, cadence in FinancingProject.objects.values_list("next_update_due_at", "update_cadence_days"):
            yield from (due, due + timedelta(days=cadence))
        days = dict(StageDefinition.objects.values_list("stage", "expected_days"))
        for stage, entered in StageTransition.objects.filter(left_at__isnull=True).values_list(
            "stage", "entered_at"
        ):
            yield from (entered + timedelta(days=days[stage]), entered + timedelta(days=2 * days[stage]))

    def beat_at_a_deadline(self):
        """A beat exactly at a deadline, or a microsecond either side: comparisons are strict."""
        ahead = sorted(
            moment for moment in self.deadlines() if self.clock < moment <= self.clock + timedelta(days=4)
        )
        if not ahead:
            return self.advance_and_beat()
        moment = self.rng.choice(ahead[:5]) + timedelta(microseconds=self.rng.choice([-1, 0, 0, 1]))
        self.move_clock(max(moment, self.clock))
        self.note("beat at a deadline")
        beat(self.clock, self.where)

    def project(self):
        return self.pick(FinancingProject.objects.all())

    def rename(self):
        project, n = self.project(), self.fresh()
        fields = self.rng.choice(
            [{"name": f"Project r{n}"}, {"code": f"PF-r{n}"}, {"name": f"P r{n}", "code": f"PF-x{n}"}]
        )
        self.call(
            f"project_update {project.code} {fields}", services.project_update, project=project, **fields
        )

    def set_status(self):
        project, status = self.project(), self.rng.choice([*ProjectStatus.values, "active"])
        self.call(
            f"project_update {project.code} status {project.status} -> {status}",
            services.project_update,
            project=project,
            status=status,
        )

    def set_cadence(self):
        project, days = self.project(), self.rng.randint(1, 7)
        self.call(
            f"project_update {project.code} update_cadence_days -> {days}",
            services.project_update,
            project=project,
            update_cadence_days=days,
        )

    def move_stage(self):
        project = self.project()
        following = Stage.next_after(project.stage)
        if following is None or self.rng.random() < 0.2:
            to_stage = self.rng.choice([stage for stage in Stage.values if stage != project.stage])
            self.call(
                f"project_move_stage {project.code} {project.stage} -> {to_stage} (override)",
                services.project_move_stage,
                project=project,
                to_stage=to_stage,
                moved_by=self.manager,
                override=True,
                note="Agreed with the credit committee",
            )
        else:
            self.call(
                f"project_move_stage {project.code} {project.stage} -> {following}",
                services.project_move_stage,
                project=project,
                to_stage=following,
                moved_by=self.owner,
            )

    def touchpoint(self, project=None):
        project = project or self.project()
        occurred = self.clock - timedelta(hours=self.rng.uniform(0, 72))
        update = self.rng.random() < 0.6
        self.call(
            f"touchpoint_log {project.code} occurred_at={occurred.isoformat()} is_client_update={update}",
            services.touchpoint_log,
            project=project,
            channel="call",
            occurred_at=occurred,
            summary="Called the CFO.",
            logged_by=self.owner,
            is_client_update=update,
        )

    def commitment_create(self, project=None, due=None):
        project = project or self.project()
        due, kind, n = due or self.due_in(), self.rng.choice(CommitmentKind.values), self.fresh()
        self.call(
            f"commitment_create {project.code} 'C{n}' kind={kind} due_at={due.isoformat()}",
            services.commitment_create,
            project=project,
            title=f"C{n}",
            due_at=due,
            owner=self.owner,
            created_by=self.owner,
            kind=kind,
        )

    def open_commitment(self):
        return self.pick(Commitment.objects.filter(status="open"))

    def commitment_update(self):
        commitment, n = self.open_commitment(), self.fresh()
        if commitment is None:
            return
        fields = self.rng.choice(
            [
                {"title": f"C{n}"},
                {"kind": self.rng.choice(CommitmentKind.values)},
                {"description": f"Chased {n}"},
            ]
        )
        self.call(
            f"commitment_update {commitment.pk} {fields}",
            services.commitment_update,
            commitment=commitment,
            by=self.owner,
            **fields,
        )

    def commitment_close(self):
        commitment = self.open_commitment()
        if commitment is None:
            return
        how = self.rng.choice(["fulfil", "renegotiate", "cancel"])
        if how == "fulfil":
            self.call(
                f"commitment_fulfil {commitment.pk}",
                services.commitment_fulfil,
                commitment=commitment,
                by=self.owner,
            )
        elif how == "cancel":
            self.call(
                f"commitment_cancel {commitment.pk}",
                services.commitment_cancel,
                commitment=commitment,
                reason="Withdrawn",
                by=self.owner,
            )
        else:
            due = self.due_in()
            self.call(
                f"commitment_renegotiate {commitment.pk} new_due_at={due.isoformat()}",
                services.commitment_renegotiate,
                commitment=commitment,
                new_due_at=due,
                reason="Waiting on the appraisal",
                by=self.owner,
            )

    def set_expected_days(self):
        definition = self.pick(StageDefinition.objects.all())
        definition.expected_days = self.rng.randint(1, 8)
        definition.save()  # as the admin's list edit does
        self.note(f"StageDefinition {definition.stage}.expected_days -> {definition.expected_days}")

    def set_due_soon_hours(self):
        hours = self.rng.choice([5, 12, 24, 48, 72, 96])
        self.settings.CEM = {**self.settings.CEM, "COMMITMENT_DUE_SOON_HOURS": hours}
        self.note(f"COMMITMENT_DUE_SOON_HOURS -> {hours}")

    def step(self):
        edits = [
            (self.advance_and_beat, 4),
            (self.beat_at_a_deadline, 2),
            (self.rename, 1),
            (self.set_status, 2),
            (self.set_cadence, 1),
            (self.move_stage, 2),
            (self.touchpoint, 2),
            (self.commitment_create, 2),
            (self.commitment_update, 2),
            (self.commitment_close, 2),
            (self.set_expected_days, 1),
            (self.set_due_soon_hours, 1),
        ]
        edit = self.rng.choices([edit for edit, _ in edits], weights=[weight for _, weight in edits])[0]
        edit()


@pytest.fixture
def clients(owner, teammate):
    return [ClientFactory(relationship_manager=rm, team=rm.team) for rm in (owner, teammate, owner)]


@pytest.mark.parametrize("seed", SEEDS)
def test_after_any_edits_one_beat_leaves_open_exactly_the_alerts_each_rule_lists(
    seed, settings, owner, manager, clients
):
    rng = random.Random(seed)
    with time_machine.travel(NOW, tick=False) as traveller:
        portfolio = Portfolio(rng, traveller, settings, owner=owner, manager=manager, clients=clients)
        portfolio.note(f"seed {seed}")
        portfolio.build()
        beat(portfolio.clock, portfolio.where)
        for _ in range(STEPS):
            portfolio.step()
        portfolio.advance_and_beat()


# --- found by reading, beside the random edits ---------------------------------------------


def test_a_scan_alert_reverted_in_the_admin_after_the_scan_resolved_it_does_not_stay_open(
    client, admin_user, project, owner
):
    # Reverting to a version from while the alert was open writes every field of that version,
    # resolved_at included, and leaves the stored severity "": no change range lists the project,
    # so every later beat keeps the alert open. Refusing the revert (403) would do as well.
    project.next_update_due_at = NOW - timedelta(days=1)
    project.save()
    assert scans.run_scan("update_overdue", at=NOW).opened == 1
    alert = Alert.objects.get(kind="update_overdue")
    alert_acknowledge(alert=alert, by=owner, at=NOW)  # a version with resolved_at empty
    version = alert.history.latest().history_id
    with time_machine.travel(NOW, tick=False):
        services.touchpoint_log(
            project=project,
            channel="call",
            occurred_at=NOW - timedelta(minutes=5),
            summary="Called the CFO.",
            logged_by=owner,
            is_client_update=True,
        )
    assert scans.run_scan("update_overdue", at=NOW).resolved == 1

    client.force_login(admin_user)
    url = reverse("admin:finance_projects_alert_simple_history", args=[alert.pk, version])
    response = client.post(url, {"assignee": alert.assignee_id})
    assert response.status_code in (302, 403), response.content

    beat(NOW + timedelta(minutes=5), lambda: "the acknowledged version reverted in the admin")
