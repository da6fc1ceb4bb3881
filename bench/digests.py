"""Time the weekly digest run: 1,000 managers over the 100,000-project portfolio at scale 1.0.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/cem_bench_digests python -m bench.digests --scale 0.05

Creates (and migrates) the database when missing, empties it and builds the dataset of
`bench.dataset` at the given scale (`--reuse` keeps a dataset already there), then adds managers
until there are `1,000 x scale` of them (each leads the team they belong to, so the teams' 100,000
projects are shared out among them). It plans the last complete week's runs (one INSERT) and sends
every digest through the real claim/build/render/record path into Django's in-memory mail
backend, so the figures exclude only the SMTP round trip.

Prints the plan time, the whole run's time, the per-recipient average, median and 95th
percentile, and the smallest and largest number of queries one recipient cost (they must be
equal: the count does not grow with the portfolio).
"""

import argparse
import statistics
import sys
import time

from bench.dataset import BENCH_MARK, build_dataset, connect, reset

FULL_MANAGERS = 1_000


def add_managers(target: int) -> int:
    """Top the managers up to `target`, spread round-robin over the bench teams; one INSERT."""
    from django.db import connection

    from accounts.models import Role, User

    missing = target - User.objects.filter(role=Role.MANAGER).count()
    if missing <= 0:
        return 0
    with connection.cursor() as cursor:
        cursor.execute(
            """
            WITH teams AS (
                SELECT id, row_number() OVER (ORDER BY id) - 1 AS n, count(*) OVER () AS total
                FROM accounts_team
            )
            INSERT INTO accounts_user (password, is_superuser, username, first_name, last_name, email,
                                       is_staff, is_active, date_joined, role, department, language,
                                       time_zone, team_id)
            SELECT '!', false, %s || '-extra-mgr-' || g, 'Manager', g::text,
                   %s || '-extra-mgr-' || g || '@bank.example', false, true, now(), %s, 'business',
                   CASE WHEN g %% 4 = 0 THEN 'en' ELSE 'zh-hans' END, 'Asia/Shanghai', teams.id
            FROM generate_series(1, %s) AS g JOIN teams ON teams.n = g %% teams.total
            """,
            [BENCH_MARK, BENCH_MARK, Role.MANAGER.value, missing],
        )
    return missing


def run(*, scale: float, reuse: bool) -> dict:
    from django.conf import settings
    from django.core import mail
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from accounts.models import Role, User
    from digests import scans
    from digests.models import DigestRun, DigestStatus
    from digests.selectors import claimable_run_ids
    from digests.services import digest_runs_plan, digest_send
    from digests.weeks import last_complete_week, zone

    if not reuse:
        with connection.cursor() as cursor:
            reset(cursor)
        print(f"building the dataset at scale {scale}")
        build_dataset(scale)
    added = add_managers(max(2, round(FULL_MANAGERS * scale)))
    managers = User.objects.filter(role=Role.MANAGER).count()
    print(f"{managers} managers ({added} added)")

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    mail.outbox = []
    now = timezone.now()
    week = last_complete_week(now, zone(settings.TIME_ZONE))
    DigestRun.objects.filter(iso_year=week.year, iso_week=week.week).delete()
    scans.snapshot_client_health(now)

    started = time.perf_counter()
    digest_runs_plan(now=now, week=week)
    run_ids = claimable_run_ids(weeks=[week], now=now)
    plan_seconds = time.perf_counter() - started

    per_recipient, queries = [], []
    started = time.perf_counter()
    for done, run_id in enumerate(run_ids, start=1):
        one = time.perf_counter()
        with CaptureQueriesContext(connection) as captured:
            status = digest_send(run_id=run_id)
        per_recipient.append(time.perf_counter() - one)
        queries.append(len(captured.captured_queries))
        if status != DigestStatus.SENT:
            raise RuntimeError(f"run {run_id} ended {status}")
        if done % max(1, len(run_ids) // 10) == 0:
            print(f"  {done}/{len(run_ids)} ({done / (time.perf_counter() - started):.1f}/s)")
    total = time.perf_counter() - started
    if len(mail.outbox) != len(run_ids):
        raise RuntimeError(f"{len(mail.outbox)} emails for {len(run_ids)} recipients")
    ordered = sorted(per_recipient)
    return {
        "week": str(week),
        "recipients": len(run_ids),
        "plan_s": plan_seconds,
        "total_s": total,
        "mean_ms": 1000 * statistics.fmean(per_recipient),
        "median_ms": 1000 * statistics.median(per_recipient),
        "p95_ms": 1000 * ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))],
        "queries_min": min(queries),
        "queries_max": max(queries),
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scale", type=float, default=0.05, help="1.0 = 100,000 projects, 1,000 managers")
    parser.add_argument("--reuse", action="store_true", help="measure the dataset already in the database")
    args = parser.parse_args(argv)
    connect()
    result = run(scale=args.scale, reuse=args.reuse)
    print(
        f"{result['recipients']} digests for {result['week']}: plan {result['plan_s']:.2f}s, "
        f"run {result['total_s']:.1f}s, per recipient mean {result['mean_ms']:.0f} ms, "
        f"median {result['median_ms']:.0f} ms, p95 {result['p95_ms']:.0f} ms; "
        f"queries per recipient {result['queries_min']}-{result['queries_max']}"
    )
    return 0 if result["queries_min"] == result["queries_max"] else 1


if __name__ == "__main__":
    sys.exit(main())
