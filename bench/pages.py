"""Time the dashboard pages server-side against their SQL floor on a synthetic portfolio.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/cem_bench python -m bench.pages --scale 0.05

Creates (and migrates) the database when missing, empties it and builds the dataset at the given
scale (`--reuse` keeps a dataset already there), then hands 200 projects to one relationship
manager and refreshes the health scores. For each page (RM home, team view, project 360°,
client profile) it measures, over `--repeat` runs after one warm-up:

- page: the full request through Django's test client (middleware, views, templates);
- floor: the same SQL statements the page ran, replayed raw on one cursor, i.e. what the
  database alone needs to produce the page's numbers.

Prints the medians and the ratio page / floor. Targets: ratio <= 3, page median < 300 ms.
"""

import argparse
import statistics
import sys
import time

from bench.dataset import BENCH_MARK, build_dataset, connect, reset

PORTFOLIO_SIZE = 200
TARGET_RATIO, TARGET_MS = 3.0, 300.0


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


def measure(client, url: str, *, repeat: int) -> dict:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.get(url)  # warm-up: templates, caches, the database's buffers
    pages, floors, statements = [], [], 0
    for _ in range(repeat):
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            response = client.get(url)
            pages.append(time.perf_counter() - started)
        assert response.status_code == 200, (url, response.status_code)
        sql = [
            q["sql"] for q in captured.captured_queries if not q["sql"].startswith(("SAVEPOINT", "RELEASE"))
        ]
        statements = len(sql)
        started = time.perf_counter()
        with connection.cursor() as cursor:
            for statement in sql:
                cursor.execute(statement.replace("%", "%%"))
                if cursor.description:
                    cursor.fetchall()
        floors.append(time.perf_counter() - started)
    page, floor = statistics.median(pages), statistics.median(floors)
    return {
        "url": url,
        "page_ms": page * 1000,
        "floor_ms": floor * 1000,
        "ratio": page / floor,
        "queries": statements,
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

    from accounts.models import Role
    from dashboard.scans import refresh_health

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
    manager = rm.team.manager
    if manager is None or manager.role != Role.MANAGER:
        print("the dataset has no manager for the team; skipping the team view")
    project = rm.projects.order_by("pk").first()

    rm_client, manager_client = Client(), Client()
    rm_client.force_login(rm)
    pages = [
        (rm_client, "/"),
        (rm_client, f"/projects/{project.pk}/"),
        (rm_client, f"/clients/{project.client_id}/"),
    ]
    if manager is not None and manager.role == Role.MANAGER:
        manager_client.force_login(manager)
        pages.append((manager_client, "/team/"))
    print(f"RM {rm.username}: {visible} projects in view; repeat={args.repeat}")
    print(f"{'page':<28}{'queries':>8}{'page ms':>10}{'floor ms':>10}{'ratio':>8}")
    ok = True
    for client, url in pages:
        result = measure(client, url, repeat=args.repeat)
        ok &= result["ratio"] <= TARGET_RATIO and result["page_ms"] < TARGET_MS
        print(
            f"{url:<28}{result['queries']:>8}{result['page_ms']:>10.1f}{result['floor_ms']:>10.1f}"
            f"{result['ratio']:>8.2f}"
        )
    print(f"targets: ratio <= {TARGET_RATIO}, page < {TARGET_MS:.0f} ms: {'met' if ok else 'NOT met'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
