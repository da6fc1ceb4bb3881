"""Time the dashboard pages server-side against their SQL floor on a synthetic portfolio.

    DEBUG=false DATABASE_URL=postgres://postgres@127.0.0.1:5432/cem_bench python -m bench.pages --scale 0.05

Creates (and migrates) the database when missing, empties it and builds the dataset at the given
scale (`--reuse` keeps a dataset already there), then hands 200 projects to one relationship
manager, refreshes the health scores and vacuums the tables (the steady state autovacuum keeps a
live database in). For each page (RM home, project 360°, client profile, team view) it measures,
over `--repeat` runs after one warm-up:

- page: the full request through Django's test client (middleware, views, templates);
- floor: hand-written SQL that computes the numbers and rows the page shows (the portfolio page
  with every column and the stored health, the live health inputs of the project page, alerts,
  commitments, KPIs per source table...), run on one cursor and fetched: what the database alone
  needs, whatever the ORM does.

Prints, per page: the queries the page ran, its median and 90th percentile, the floor's median,
the ratio page / floor and whether the targets are met: ratio <= 3 and median < 300 ms.
Run with DEBUG=false: the cached template loader is on, as in production.
"""

import argparse
import statistics
import sys
import time
from datetime import timedelta

from bench.dataset import BENCH_MARK, build_dataset, connect, reset

PORTFOLIO_SIZE = 200
TARGET_RATIO, TARGET_MS = 3.0, 300.0
VACUUMED = [
    "finance_projects_financingproject",
    "finance_projects_client",
    "finance_projects_commitment",
    "finance_projects_touchpoint",
    "finance_projects_alert",
    "finance_projects_stagetransition",
    "accounts_user",
]

# --- Floors: the page's numbers in raw SQL ---------------------------------------------------

RM_SCOPE = """
    SELECT id FROM finance_projects_financingproject WHERE relationship_manager_id = %(user)s
    UNION
    SELECT p.id FROM finance_projects_financingproject p
    JOIN finance_projects_client c ON c.id = p.client_id WHERE c.relationship_manager_id = %(user)s
"""
TEAM_SCOPE = "SELECT id FROM finance_projects_financingproject WHERE team_id = ANY(%(teams)s)"

PORTFOLIO_COUNT = "SELECT count(*) FROM finance_projects_financingproject WHERE id IN ({scope})"
# One page of the portfolio table, sorted by stored health, every column computed.
PORTFOLIO_PAGE = """
    SELECT p.id, p.name, p.code, p.stage, p.stage_entered_at, p.last_client_update_at,
           p.next_update_due_at, p.health, p.health_factors, c.id, c.name, u.first_name, u.last_name,
           d.expected_days, nc.due_at, nc.title, coalesce(mc.n, 0), coalesce(oc.n, 0), nps.nps
    FROM (
        SELECT * FROM finance_projects_financingproject WHERE {where} id IN ({scope}) ORDER BY {order}
    ) p
    JOIN finance_projects_client c ON c.id = p.client_id
    JOIN accounts_user u ON u.id = p.relationship_manager_id
    LEFT JOIN finance_projects_stagedefinition d ON d.stage = p.stage
    LEFT JOIN LATERAL (
        SELECT due_at, title FROM finance_projects_commitment
        WHERE project_id = p.id AND status = 'open' ORDER BY due_at, id LIMIT 1
    ) nc ON true
    LEFT JOIN LATERAL (
        SELECT count(*) AS n FROM finance_projects_commitment
        WHERE project_id = p.id AND status = 'open' AND due_at < %(now)s
    ) mc ON true
    LEFT JOIN LATERAL (
        SELECT count(*) AS n FROM complaints_complaint
        WHERE project_id = p.id AND status IN ('new', 'acknowledged', 'investigating', 'reopened')
    ) oc ON true
    LEFT JOIN LATERAL (
        SELECT r.nps FROM feedback_surveyresponse r
        JOIN feedback_surveyinvitation i ON i.id = r.invitation_id
        WHERE i.project_id = p.id AND r.submitted_at IS NOT NULL AND r.nps IS NOT NULL
        ORDER BY r.submitted_at DESC, r.id DESC LIMIT 1
    ) nps ON true
    ORDER BY {outer}
"""
PAGE_ORDER = {"order": "health ASC NULLS LAST, code LIMIT 25", "outer": "p.health ASC NULLS LAST, p.code"}
# The live health score's inputs for the given projects.
HEALTH_INPUTS = [
    "SELECT id, next_update_due_at FROM finance_projects_financingproject WHERE id = ANY(%(ids)s)",
    """SELECT project_id, title, due_at FROM finance_projects_commitment
       WHERE project_id = ANY(%(ids)s) AND status = 'open' AND due_at < %(now)s ORDER BY due_at""",
    """SELECT project_id, count(*) FILTER (WHERE severity = 'critical'),
              count(*) FILTER (WHERE severity = 'warning')
       FROM finance_projects_alert
       WHERE project_id = ANY(%(ids)s) AND resolved_at IS NULL
         AND kind NOT IN ('commitment_missed', 'update_overdue', 'complaint_ack_overdue',
                          'complaint_resolution_overdue', 'detractor_response')
         AND (snoozed_until IS NULL OR snoozed_until <= %(now)s)
       GROUP BY project_id""",
    """SELECT project_id, reference, received_at FROM complaints_complaint
       WHERE project_id = ANY(%(ids)s) AND status IN ('new', 'acknowledged', 'investigating', 'reopened')
       ORDER BY received_at""",
    """SELECT i.project_id, min(r.nps), min(r.csat) FROM feedback_surveyresponse r
       JOIN feedback_surveyinvitation i ON i.id = r.invitation_id
       WHERE i.project_id = ANY(%(ids)s) AND r.submitted_at >= %(now)s - interval '90 days'
         AND r.submitted_at <= %(now)s
       GROUP BY i.project_id""",
]
OPEN_ALERTS = """
    SELECT a.*, p.code, p.name, c.name, u.first_name
    FROM finance_projects_alert a
    JOIN finance_projects_financingproject p ON p.id = a.project_id
    JOIN finance_projects_client c ON c.id = p.client_id
    LEFT JOIN accounts_user u ON u.id = a.assignee_id
    WHERE a.project_id IN ({scope}) AND a.resolved_at IS NULL
      AND (a.snoozed_until IS NULL OR a.snoozed_until <= %(now)s) {mine}
    ORDER BY CASE a.severity WHEN 'critical' THEN 0 WHEN 'warning' THEN 1 ELSE 2 END, a.opened_at, a.id
    LIMIT 20
"""
MINE = "AND (a.assignee_id = %(user)s OR (a.assignee_id IS NULL AND p.relationship_manager_id = %(user)s))"
# List pages show the stored health score (the one they sort and filter by): no live inputs.
RM_HOME = [
    PORTFOLIO_COUNT.format(scope=RM_SCOPE),
    PORTFOLIO_PAGE.format(scope=RM_SCOPE, where="", **PAGE_ORDER),
    OPEN_ALERTS.format(scope=RM_SCOPE, mine=MINE),
    f"""SELECT count(*) FROM finance_projects_alert WHERE project_id IN ({RM_SCOPE}) AND resolved_at IS NULL
       AND snoozed_until > %(now)s AND assignee_id = %(user)s""",
    f"""SELECT c.id, c.title, c.due_at, c.project_id, p.code, u.first_name, u.last_name
       FROM finance_projects_commitment c
       JOIN finance_projects_financingproject p ON p.id = c.project_id
       JOIN accounts_user u ON u.id = c.owner_id
       WHERE c.project_id IN ({RM_SCOPE}) AND c.status = 'open' AND c.due_at >= %(week)s
         AND c.due_at < %(week)s + interval '7 days'
         AND (c.owner_id = %(user)s OR p.relationship_manager_id = %(user)s)
       ORDER BY c.due_at, c.id LIMIT 50""",
    f"""SELECT r.*, i.project_id, p.code, ct.name FROM feedback_surveyresponse r
       JOIN feedback_surveyinvitation i ON i.id = r.invitation_id
       JOIN finance_projects_financingproject p ON p.id = i.project_id
       JOIN finance_projects_contact ct ON ct.id = i.contact_id
       WHERE i.project_id IN ({RM_SCOPE}) AND r.submitted_at IS NOT NULL
       ORDER BY r.submitted_at DESC, r.id DESC LIMIT 8""",
    """SELECT id, username, first_name, last_name FROM accounts_user
       WHERE is_active AND team_id = ANY(%(teams)s) ORDER BY first_name, username""",
]

# The team KPIs: one statement per source table, rows placed by relationship manager, week and
# period (1 = the period, 0 = the one before, -1 = only in the weekly trend).
KPI_GROUPS = "s.rm, date_trunc('week', {d} AT TIME ZONE %(tz)s), " + (
    "CASE WHEN {d} >= %(start)s AND {d} < %(end)s THEN 1 WHEN {d} >= %(prev)s AND {d} < %(start)s THEN 0 "
    "ELSE -1 END"
)
KPI_SCOPE = (
    "WITH s AS (SELECT id, relationship_manager_id AS rm, created_at, update_cadence_days "
    "FROM finance_projects_financingproject WHERE team_id = ANY(%(teams)s)) "
)
TEAM_KPIS = [
    KPI_SCOPE
    + """SELECT {g}, count(*), count(*) FILTER (
             WHERE t.occurred_at
                   <= coalesce(prev.at, s.created_at) + s.update_cadence_days * interval '1 day')
         FROM s JOIN finance_projects_touchpoint t ON t.project_id = s.id AND t.is_client_update
              AND t.occurred_at >= %(first)s AND t.occurred_at < %(stop)s
         LEFT JOIN LATERAL (
             SELECT u.occurred_at AS at FROM finance_projects_touchpoint u
             WHERE u.project_id = t.project_id AND u.is_client_update AND u.occurred_at < t.occurred_at
             ORDER BY u.occurred_at DESC LIMIT 1
         ) prev ON true
         GROUP BY 1, 2, 3""".format(g=KPI_GROUPS.format(d="t.occurred_at")),
    KPI_SCOPE
    + """SELECT {g}, count(*) FROM s JOIN finance_projects_alert a ON a.project_id = s.id
         WHERE a.kind = 'update_overdue' AND a.opened_at >= %(first)s AND a.opened_at < %(stop)s
         GROUP BY 1, 2, 3""".format(g=KPI_GROUPS.format(d="a.opened_at")),
    KPI_SCOPE
    + """SELECT {g}, count(*), count(*) FILTER (WHERE c.status = 'fulfilled' AND c.fulfilled_at <= c.due_at)
         FROM s JOIN finance_projects_commitment c ON c.project_id = s.id
         WHERE c.due_at >= %(first)s AND c.due_at < least(%(stop)s, %(now)s) AND c.status <> 'cancelled'
           AND NOT (c.status = 'renegotiated' AND c.closed_at <= c.due_at)
         GROUP BY 1, 2, 3""".format(g=KPI_GROUPS.format(d="c.due_at")),
    KPI_SCOPE
    + """SELECT {g}, count(*), count(*) FILTER (WHERE k.acknowledged_at <= k.ack_due_at)
         FROM s JOIN complaints_complaint k ON k.project_id = s.id
         WHERE k.ack_due_at >= %(first)s AND k.ack_due_at < least(%(stop)s, %(now)s)
         GROUP BY 1, 2, 3""".format(g=KPI_GROUPS.format(d="k.ack_due_at")),
    KPI_SCOPE
    + """SELECT {g}, count(*), count(*) FILTER (WHERE k.resolved_at <= k.resolve_due_at)
         FROM s JOIN complaints_complaint k ON k.project_id = s.id
         WHERE k.resolve_due_at >= %(first)s AND k.resolve_due_at < least(%(stop)s, %(now)s)
         GROUP BY 1, 2, 3""".format(g=KPI_GROUPS.format(d="k.resolve_due_at")),
    KPI_SCOPE
    + """SELECT {g}, count(*), sum(k.resolved_at - k.received_at)
         FROM s JOIN complaints_complaint k ON k.project_id = s.id
         WHERE k.resolved_at >= %(first)s AND k.resolved_at < %(stop)s
         GROUP BY 1, 2, 3""".format(g=KPI_GROUPS.format(d="k.resolved_at")),
    KPI_SCOPE
    + """SELECT {g}, count(*) FILTER (WHERE r.nps IS NOT NULL), count(*) FILTER (WHERE r.nps >= 9),
                count(*) FILTER (WHERE r.nps <= 6), count(*) FILTER (WHERE r.csat IS NOT NULL),
                count(*) FILTER (WHERE r.csat >= 4)
         FROM s JOIN feedback_surveyinvitation i ON i.project_id = s.id
         JOIN feedback_surveyresponse r ON r.invitation_id = i.id
         WHERE r.submitted_at >= %(first)s AND r.submitted_at < %(stop)s
         GROUP BY 1, 2, 3""".format(g=KPI_GROUPS.format(d="r.submitted_at")),
    KPI_SCOPE
    + """SELECT {g}, count(*), count(*) FILTER (WHERE i.responded_at IS NOT NULL)
         FROM s JOIN feedback_surveyinvitation i ON i.project_id = s.id
         WHERE i.sent_at >= %(first)s AND i.sent_at < %(stop)s
         GROUP BY 1, 2, 3""".format(g=KPI_GROUPS.format(d="i.sent_at")),
]
TEAM = [
    *TEAM_KPIS,
    """SELECT relationship_manager_id, count(*) FROM finance_projects_financingproject
       WHERE team_id = ANY(%(teams)s) GROUP BY 1""",
    PORTFOLIO_COUNT.format(scope=TEAM_SCOPE),
    PORTFOLIO_PAGE.format(scope=TEAM_SCOPE, where="", **PAGE_ORDER),
    OPEN_ALERTS.format(scope=TEAM_SCOPE, mine=""),
    """SELECT id, username, first_name, last_name FROM accounts_user
       WHERE is_active AND team_id = ANY(%(teams)s) ORDER BY first_name, username""",
]

PROJECT = [
    """SELECT p.*, c.*, u.first_name, u.last_name, t.name FROM finance_projects_financingproject p
       JOIN finance_projects_client c ON c.id = p.client_id
       JOIN accounts_user u ON u.id = p.relationship_manager_id
       JOIN accounts_team t ON t.id = p.team_id WHERE p.id = %(project)s""",
    "SELECT * FROM finance_projects_stagedefinition",
    "SELECT stage, entered_at, left_at FROM finance_projects_stagetransition WHERE project_id = %(project)s",
    """SELECT c.*, o.first_name, o.last_name, b.first_name FROM finance_projects_commitment c
       JOIN accounts_user o ON o.id = c.owner_id LEFT JOIN accounts_user b ON b.id = c.created_by_id
       WHERE c.project_id = %(project)s ORDER BY c.due_at, c.id""",
    """SELECT t.*, u.first_name, u.last_name, ct.name FROM finance_projects_touchpoint t
       LEFT JOIN accounts_user u ON u.id = t.logged_by_id
       LEFT JOIN finance_projects_contact ct ON ct.id = t.contact_id
       WHERE t.project_id = %(project)s ORDER BY t.occurred_at DESC, t.id DESC LIMIT 60""",
    """SELECT * FROM finance_projects_alert WHERE project_id = %(project)s
       ORDER BY opened_at DESC, id DESC LIMIT 60""",
    """SELECT * FROM complaints_complaint WHERE project_id = %(project)s
       ORDER BY received_at DESC LIMIT 60""",
    """SELECT r.*, ct.name FROM feedback_surveyresponse r
       JOIN feedback_surveyinvitation i ON i.id = r.invitation_id
       JOIN finance_projects_contact ct ON ct.id = i.contact_id
       WHERE i.project_id = %(project)s AND r.submitted_at IS NOT NULL
       ORDER BY r.submitted_at DESC LIMIT 60""",
    """SELECT h.*, u.first_name FROM finance_projects_historicalfinancingproject h
       LEFT JOIN accounts_user u ON u.id = h.history_user_id
       WHERE h.id = %(project)s ORDER BY h.history_date DESC LIMIT 30""",
    """SELECT h.*, u.first_name FROM finance_projects_historicalcommitment h
       LEFT JOIN accounts_user u ON u.id = h.history_user_id
       WHERE h.project_id = %(project)s ORDER BY h.history_date DESC LIMIT 30""",
    """SELECT l.*, ct.name FROM finance_projects_projectstatuslink l
       JOIN finance_projects_contact ct ON ct.id = l.contact_id
       WHERE l.project_id = %(project)s AND l.revoked_at IS NULL AND l.expires_at > %(now)s""",
    # The side forms (their contact and owner menus) load when the user opens them; the project's
    # own update deadline came with its row above.
    *HEALTH_INPUTS[1:],
]

CLIENT = [
    """SELECT c.*, u.first_name, u.last_name, t.name FROM finance_projects_client c
       JOIN accounts_user u ON u.id = c.relationship_manager_id
       JOIN accounts_team t ON t.id = c.team_id WHERE c.id = %(client)s""",
    PORTFOLIO_PAGE.format(
        scope=RM_SCOPE, where="client_id = %(client)s AND", order="created_at DESC", outer="p.created_at DESC"
    ),
    "SELECT * FROM finance_projects_contact WHERE client_id = %(client)s ORDER BY name",
    """SELECT k.reference, k.received_at, p.code, k.category, k.status FROM complaints_complaint k
       JOIN finance_projects_financingproject p ON p.id = k.project_id
       WHERE k.project_id = ANY(%(ids)s) ORDER BY k.received_at DESC LIMIT 50""",
    """SELECT r.submitted_at, r.nps, r.csat FROM feedback_surveyresponse r
       JOIN feedback_surveyinvitation i ON i.id = r.invitation_id
       WHERE i.project_id = ANY(%(ids)s) AND r.submitted_at IS NOT NULL
       ORDER BY r.submitted_at DESC, r.id DESC LIMIT 50""",
]


def run_floor(statements: list[str], params: dict, *, ids_from: int | None = None) -> float:
    """Run the statements on one cursor, fetching every row; the ids of the projects shown (the
    first column of statement `ids_from`) feed the later statements as %(ids)s."""
    from django.db import connection

    started = time.perf_counter()
    params = dict(params)
    with connection.cursor() as cursor:
        for index, statement in enumerate(statements):
            cursor.execute(statement, params)
            rows = cursor.fetchall() if cursor.description else []
            if index == ids_from:
                params["ids"] = [row[0] for row in rows]
    return time.perf_counter() - started


# --- The measurement -------------------------------------------------------------------------


def _rm_with_portfolio(size: int):
    """A relationship manager who manages `size` projects of their team."""
    from django.db.models import Count

    from accounts.models import Role, User
    from finance_projects.models import Client, FinancingProject

    rm = (
        User.objects.filter(role=Role.RELATIONSHIP_MANAGER, username__contains=BENCH_MARK)
        .annotate(n=Count("projects"))
        .order_by("-n", "pk")
        .first()
    )
    team_projects = FinancingProject.objects.filter(team_id=rm.team_id).order_by("pk")
    chosen = list(team_projects.values_list("pk", flat=True)[:size])
    FinancingProject.objects.filter(team_id=rm.team_id).exclude(pk__in=chosen).filter(
        relationship_manager=rm
    ).update(relationship_manager=rm.team.manager or rm)
    FinancingProject.objects.filter(pk__in=chosen).update(relationship_manager=rm)
    # Owning a client shows all its projects: the team's clients go to the manager, so the RM
    # sees exactly the projects they manage.
    Client.objects.filter(team_id=rm.team_id).update(relationship_manager=rm.team.manager or rm)
    from finance_projects.selectors import portfolio_for

    return rm, portfolio_for(rm).count()


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def measure(client, url: str, floor, *, repeat: int) -> dict:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.get(url)  # warm-up: templates, caches, the database's buffers
    floor()
    pages, floors, statements = [], [], 0
    for _ in range(repeat):
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            response = client.get(url)
            pages.append(time.perf_counter() - started)
        assert response.status_code == 200, (url, response.status_code)
        statements = len(
            [q for q in captured.captured_queries if not q["sql"].startswith(("SAVEPOINT", "RELEASE"))]
        )
        floors.append(floor())
    page, floor_median = statistics.median(pages), statistics.median(floors)
    return {
        "url": url,
        "queries": statements,
        "page_ms": page * 1000,
        "p90_ms": _percentile(pages, 0.9) * 1000,
        "floor_ms": floor_median * 1000,
        "ratio": page / floor_median,
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=0.05, help="dataset scale (1.0 = 100,000 projects)")
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--reuse", action="store_true", help="keep the dataset already in the database")
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args(argv)

    connect(args.database_url)
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.utils import timezone

    from accounts.models import Role
    from dashboard import kpis
    from dashboard.scans import refresh_health
    from dashboard.selectors import week_bounds

    settings.ALLOWED_HOSTS = ["*"]
    if not args.reuse:
        with connection.cursor() as cursor:
            reset(cursor)
        print(f"building the dataset at scale {args.scale} ...")
        build_dataset(args.scale)
    rm, visible = _rm_with_portfolio(PORTFOLIO_SIZE)
    started = time.perf_counter()
    refreshed = refresh_health().kept
    print(f"health refresh: {refreshed} projects in {time.perf_counter() - started:.2f}s")
    with connection.cursor() as cursor:
        for table in VACUUMED:
            cursor.execute(f"VACUUM ANALYZE {table}")
    manager = rm.team.manager
    project = rm.projects.order_by("pk").first()
    print(f"RM {rm.username}: {visible} projects in view; repeat={args.repeat}; DEBUG={settings.DEBUG}")

    def params(user, **extra):
        now = timezone.now()
        return {"user": user.pk, "teams": [user.team_id], "now": now, **extra}

    def home_floor():
        return run_floor(RM_HOME, params(rm, week=week_bounds(user=rm)[0]))

    def project_floor():
        extra = {"project": project.pk, "client": project.client_id, "team": project.team_id}
        return run_floor(PROJECT, params(rm, ids=[project.pk], **extra))

    def client_floor():
        return run_floor(CLIENT, params(rm, client=project.client_id), ids_from=1)

    def team_floor():
        with timezone.override(manager.zone):
            now = timezone.now()
            previous_start, start, end = kpis.period_bounds(days=30, end=now)
            last = kpis.week_start(end)
            window = {
                "tz": str(manager.zone),
                "prev": previous_start,
                "start": start,
                "end": end,
                "first": min(previous_start, last - timedelta(weeks=11)),
                "stop": last + timedelta(weeks=1),
            }
        return run_floor(TEAM, params(manager, **window))

    rm_client = Client()
    rm_client.force_login(rm)
    pages = [
        (rm_client, "/", home_floor),
        (rm_client, f"/projects/{project.pk}/", project_floor),
        (rm_client, f"/clients/{project.client_id}/", client_floor),
    ]
    if manager is not None and manager.role == Role.MANAGER:
        manager_client = Client()
        manager_client.force_login(manager)
        pages.append((manager_client, "/team/", team_floor))
    else:
        print("the dataset has no manager for the team; skipping the team view")
    header = (
        f"{'page':<22}{'queries':>8}{'median ms':>11}{'p90 ms':>9}{'floor ms':>10}{'ratio':>7}  target met"
    )
    print(header)
    ok = True
    for client, url, floor in pages:
        result = measure(client, url, floor, repeat=args.repeat)
        met = result["ratio"] <= TARGET_RATIO and result["page_ms"] < TARGET_MS
        ok &= met
        print(
            f"{url:<22}{result['queries']:>8}{result['page_ms']:>11.1f}{result['p90_ms']:>9.1f}"
            f"{result['floor_ms']:>10.1f}{result['ratio']:>7.2f}  {'yes' if met else 'no'}"
        )
    print(f"targets: ratio <= {TARGET_RATIO}, median < {TARGET_MS:.0f} ms: {'met' if ok else 'NOT met'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
