"""A synthetic bank portfolio for benchmarks, built on PostgreSQL in a few set-based statements.

At scale 1.0: 100,000 projects (with 20,000 clients, 1,000 relationship managers in 50 teams
with their managers), 1,000,000 commitments and 5,000,000 touchpoints. The people and clients
are copied in with COPY; the big tables are generated server-side (`INSERT ... SELECT ...
FROM generate_series`), which is what makes scale 1.0 take minutes and not hours.

Distributions (fixed seed, so two builds at one scale are alike):
- projects: 85% active, 5% on hold, 5% closed, 5% lost; stages weighted towards the middle of
  the deal; update cadence 7, 14 or 30 days; the last client update 0-60 days ago, so about a
  third of the active projects are overdue for an update; in the current stage 0-120 days.
- commitments: due from 60 days ago to 60 days ahead; past-due ones are mostly fulfilled, 8% are
  still open (missed); about 2% of all are open and due within two days.
- touchpoints: over the last two years, 40% of them client updates.

Other benchmarks (dashboard, digests) import `build_dataset` and `connect`.
"""

import os
import sys
import time
from dataclasses import dataclass
from datetime import datetime

BENCH_MARK = "bench"  # every generated username, client name and project code carries it
# Analyzed once the data is in, so the planner sees the portfolio as built, not as empty tables.
ANALYZED = [
    "accounts_user",
    "finance_projects_client",
    "finance_projects_financingproject",
    "finance_projects_stagetransition",
    "finance_projects_commitment",
    "finance_projects_touchpoint",
    "finance_projects_alert",
]

INDUSTRIES = ["Renewable energy", "Toll roads", "Ports", "Water utilities", "Data centres", "Hospitals"]
REGIONS = ["East China", "North China", "South China", "Central China", "West China", "Hong Kong"]
LANGUAGES = ["zh-hans", "zh-hans", "zh-hans", "en"]


@dataclass(frozen=True)
class DatasetSize:
    teams: int
    relationship_managers: int
    clients: int
    projects: int
    commitments: int
    touchpoints: int

    @classmethod
    def at(cls, scale: float) -> "DatasetSize":
        def n(full: int, minimum: int) -> int:
            return max(minimum, round(full * scale))

        return cls(
            teams=n(50, 1),
            relationship_managers=n(1_000, 2),
            clients=n(20_000, 2),
            projects=n(100_000, 4),
            commitments=n(1_000_000, 10),
            touchpoints=n(5_000_000, 20),
        )


def connect(database_url: str | None = None) -> None:
    """Point Django at `database_url` (default: DATABASE_URL), creating the database if needed,
    and migrate it. Call before anything imports models."""
    import psycopg

    url = database_url or os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        sys.exit(
            "Set DATABASE_URL to a PostgreSQL database, e.g. postgres://postgres@127.0.0.1:5432/cem_bench"
        )
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cem.settings")
    base, _, name = url.rpartition("/")
    name = name.split("?")[0]
    with psycopg.connect(f"{base}/postgres", autocommit=True) as admin:
        if not admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            admin.execute(f'CREATE DATABASE "{name}"')

    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0, interactive=False)


def _copy(cursor, table: str, columns: list[str], rows) -> None:
    raw = cursor.cursor  # psycopg's own cursor under Django's wrapper
    with raw.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def reset(cursor) -> None:
    """Empty every table the dataset fills (and what hangs off them). Only on a bench database."""
    from django.db import connection

    if BENCH_MARK not in connection.settings_dict["NAME"]:
        raise RuntimeError("reset() only runs on a database whose name contains 'bench'")
    cursor.execute(
        "TRUNCATE finance_projects_alert, finance_projects_touchpoint, finance_projects_commitment, "
        "finance_projects_stagetransition, finance_projects_financingproject, finance_projects_client, "
        "accounts_user, accounts_team RESTART IDENTITY CASCADE"
    )


def build_dataset(scale: float, *, at: datetime | None = None, log=print) -> DatasetSize:
    """Add a synthetic portfolio of the given scale to the current (PostgreSQL) database.

    Adds to what is there (names carry `bench` and a build stamp, so builds never collide);
    call `reset()` first on a dedicated bench database for a clean measurement.
    """
    from django.db import connection, transaction
    from django.utils import timezone

    if connection.vendor != "postgresql":
        raise RuntimeError("The benchmark dataset is built on PostgreSQL.")
    at = at or timezone.now()
    size = DatasetSize.at(scale)
    stamp = f"{BENCH_MARK}{int(time.time() * 1000) % 10**9}"
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT setseed(0.42)")
        _people_and_clients(cursor, size, stamp, at)
        log(f"  teams, people, clients ... {time.perf_counter() - started:.1f}s")
        _projects(cursor, size, stamp, at)
        log(f"  projects, stage history ... {time.perf_counter() - started:.1f}s")
        _commitments(cursor, size, at)
        log(f"  commitments ... {time.perf_counter() - started:.1f}s")
        _touchpoints(cursor, size, at)
        log(f"  touchpoints ... {time.perf_counter() - started:.1f}s")
    with connection.cursor() as cursor:
        for table in ANALYZED:
            cursor.execute(f"ANALYZE {table}")
    log(f"  analyzed ... {time.perf_counter() - started:.1f}s")
    return size


def _people_and_clients(cursor, size: DatasetSize, stamp: str, at: datetime) -> None:
    cursor.execute("CREATE TEMP TABLE bench_team (n int PRIMARY KEY, id bigint) ON COMMIT DROP")
    cursor.execute("CREATE TEMP TABLE bench_rm (n int PRIMARY KEY, id bigint, team_id bigint) ON COMMIT DROP")
    cursor.execute(
        "CREATE TEMP TABLE bench_client (n int PRIMARY KEY, id bigint, rm_id bigint, team_id bigint) "
        "ON COMMIT DROP"
    )
    _copy(
        cursor,
        "accounts_team",
        ["name", "created_at"],
        ((f"{stamp} team {t}", at) for t in range(size.teams)),
    )
    cursor.execute(
        "INSERT INTO bench_team SELECT row_number() OVER (ORDER BY id) - 1, id "
        "FROM accounts_team WHERE name LIKE %s",
        [f"{stamp} team %"],
    )
    user_columns = [
        "password", "is_superuser", "username", "first_name", "last_name", "email", "is_staff", "is_active",
        "date_joined", "role", "department", "language", "time_zone", "team_id",
    ]  # fmt: skip
    cursor.execute("SELECT id FROM bench_team ORDER BY n")
    team_ids = [row[0] for row in cursor.fetchall()]

    def user(username, role, team_id, n):
        email = f"{username}@bank.example"
        return ["!", False, username, "RM", str(n), email, False, True, at, role, "business",
                LANGUAGES[n % len(LANGUAGES)], "Asia/Shanghai", team_id]  # fmt: skip

    managers = (user(f"{stamp}-mgr-{t}", "manager", team_ids[t], t) for t in range(size.teams))
    rms = (
        user(f"{stamp}-rm-{r}", "relationship_manager", team_ids[r % size.teams], r)
        for r in range(size.relationship_managers)
    )
    _copy(cursor, "accounts_user", user_columns, managers)
    _copy(cursor, "accounts_user", user_columns, rms)
    cursor.execute(
        "UPDATE accounts_team AS t SET manager_id = u.id FROM accounts_user AS u "
        "WHERE u.username = %s || '-mgr-' || (SELECT n FROM bench_team WHERE id = t.id) "
        "AND t.id IN (SELECT id FROM bench_team)",
        [stamp],
    )
    cursor.execute(
        "INSERT INTO bench_rm SELECT row_number() OVER (ORDER BY id) - 1, id, team_id FROM accounts_user "
        "WHERE username LIKE %s",
        [f"{stamp}-rm-%"],
    )
    cursor.execute(
        """
        INSERT INTO finance_projects_client
            (name, industry, region, created_at, relationship_manager_id, team_id)
        SELECT %s || ' client ' || g, (%s::text[])[1 + g %% 6], (%s::text[])[1 + (g / 6) %% 6],
               %s - (random() * 1500) * interval '1 day', rm.id, rm.team_id
        FROM generate_series(0::bigint, %s - 1) AS g JOIN bench_rm AS rm ON rm.n = g %% %s
        """,
        [stamp, INDUSTRIES, REGIONS, at, size.clients, size.relationship_managers],
    )
    cursor.execute(
        "INSERT INTO bench_client "
        "SELECT row_number() OVER (ORDER BY id) - 1, id, relationship_manager_id, team_id "
        "FROM finance_projects_client WHERE name LIKE %s",
        [f"{stamp} client %"],
    )


STAGES = ["inquiry", "term_sheet", "due_diligence", "credit_approval", "documentation", "disbursement",
          "monitoring", "closed"]  # fmt: skip
# Cumulative weights of the stages above for open deals (most are mid-way).
STAGE_CUTS = [0.10, 0.22, 0.38, 0.52, 0.66, 0.78, 1.0]


def _projects(cursor, size: DatasetSize, stamp: str, at: datetime) -> None:
    stage_case = " ".join(
        f"WHEN s < {cut} THEN '{stage}'" for cut, stage in zip(STAGE_CUTS, STAGES, strict=False)
    )
    cursor.execute(
        f"""
        INSERT INTO finance_projects_financingproject
            (name, code, amount, currency, stage, status, update_cadence_days, last_client_update_at,
             next_update_due_at, stage_entered_at, health_factors, created_at, updated_at,
             client_id, relationship_manager_id, team_id)
        SELECT 'Project ' || g, %s || '-' || g,
               round((10 + random() * 2000)::numeric * 1000000, 2),
               (ARRAY['CNY','CNY','CNY','USD','EUR','HKD'])[1 + g %% 6],
               CASE WHEN status = 'closed' THEN 'closed' ELSE CASE {stage_case} END END,
               status, cadence, last_update, last_update + cadence * interval '1 day',
               %s - (random() * 120) * interval '1 day', '[]'::jsonb,
               %s - (200 + random() * 500) * interval '1 day', %s, c.id, c.rm_id, c.team_id
        FROM (
            SELECT g, random() AS s,
                   CASE WHEN r < 0.85 THEN 'active' WHEN r < 0.90 THEN 'on_hold'
                        WHEN r < 0.95 THEN 'closed' ELSE 'lost' END AS status,
                   (ARRAY[7, 14, 14, 30])[1 + (g * 7) %% 4] AS cadence,
                   %s - (random() * 60) * interval '1 day' AS last_update
            FROM (SELECT g, random() AS r FROM generate_series(0::bigint, %s - 1) AS g) AS base
        ) AS p
        JOIN bench_client AS c ON c.n = (p.g * 7919) %% %s
        """,
        [stamp, at, at, at, at, size.projects, size.clients],
    )
    # The current stay in the stage, and the stay in the stage before it.
    cursor.execute(
        """
        INSERT INTO finance_projects_stagetransition
            (from_stage, stage, entered_at, left_at, override, note, project_id)
        SELECT COALESCE((%s::text[])[array_position(%s::text[], p.stage::text) - 1], ''), p.stage,
               p.stage_entered_at, NULL, false, '', p.id
        FROM finance_projects_financingproject AS p
        WHERE p.code LIKE %s
        UNION ALL
        SELECT '', (%s::text[])[array_position(%s::text[], p.stage::text) - 1],
               p.created_at, p.stage_entered_at, false, '', p.id
        FROM finance_projects_financingproject AS p
        WHERE p.code LIKE %s AND p.stage <> 'inquiry' AND p.created_at < p.stage_entered_at
        """,
        [STAGES, STAGES, f"{stamp}-%", STAGES, STAGES, f"{stamp}-%"],
    )
    cursor.execute(
        "CREATE TEMP TABLE bench_project ON COMMIT DROP AS "
        "SELECT row_number() OVER (ORDER BY id) - 1 AS n, id, relationship_manager_id AS rm_id "
        "FROM finance_projects_financingproject WHERE code LIKE %s",
        [f"{stamp}-%"],
    )
    cursor.execute("ALTER TABLE bench_project ADD PRIMARY KEY (n)")


def _commitments(cursor, size: DatasetSize, at: datetime) -> None:
    cursor.execute(
        """
        INSERT INTO finance_projects_commitment
            (title, description, kind, department, due_at, status, fulfilled_at, closed_at, close_reason,
             created_at, owner_id, project_id)
        SELECT 'Commitment ' || g, '', kind, dept, due_at, status,
               CASE WHEN status = 'fulfilled' THEN LEAST(due_at, %s) - random() * interval '3 days' END,
               CASE WHEN status <> 'open' THEN LEAST(due_at, %s) END,
               CASE WHEN status IN ('renegotiated', 'cancelled') THEN 'Client asked' ELSE '' END,
               due_at - (5 + random() * 40) * interval '1 day', p.rm_id, p.id
        FROM (
            SELECT g, due_at,
                   (ARRAY['schedule','pricing','document','document','response','other'])[1 + g %% 6] AS kind,
                   (ARRAY['business','risk','legal','credit'])[1 + (g / 6) %% 4] AS dept,
                   CASE WHEN due_at < %s THEN
                        CASE WHEN r < 0.08 THEN 'open' WHEN r < 0.88 THEN 'fulfilled'
                             WHEN r < 0.95 THEN 'renegotiated' ELSE 'cancelled' END
                   ELSE CASE WHEN r < 0.9 THEN 'open' ELSE 'fulfilled' END END AS status
            FROM (
                SELECT g, random() AS r, %s + (random() * 120 - 60) * interval '1 day' AS due_at
                FROM generate_series(0::bigint, %s - 1) AS g
            ) AS base
        ) AS c
        JOIN bench_project AS p ON p.n = (c.g * 104729) %% %s
        """,
        [at, at, at, at, size.commitments, size.projects],
    )


def _touchpoints(cursor, size: DatasetSize, at: datetime) -> None:
    cursor.execute(
        """
        INSERT INTO finance_projects_touchpoint
            (channel, occurred_at, summary, is_client_update, shareable, needs_attention, created_at,
             logged_by_id, project_id)
        SELECT (ARRAY['meeting','call','call','email','email','document','site_visit','progress_update'])
                   [1 + g %% 8],
               occurred_at, 'Discussed progress with the client', r < 0.4, r < 0.1, r > 0.98,
               occurred_at, p.rm_id, p.id
        FROM (
            SELECT g, random() AS r, %s - (random() * 730) * interval '1 day' AS occurred_at
            FROM generate_series(0::bigint, %s - 1) AS g
        ) AS t
        JOIN bench_project AS p ON p.n = (t.g * 15485863) %% %s
        """,
        [at, size.touchpoints, size.projects],
    )
