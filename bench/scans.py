"""Time each early-warning scan against its floor on a synthetic portfolio.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/cem_bench python -m bench.scans --scale 0.1

Creates (and migrates) the database when missing, empties it and builds the dataset at the
given scale (`--reuse` keeps a dataset already there). For each scan it measures:

- first run: from no alert of that kind, opening every alert;
- second run: straight after, when nothing changed (it must open and resolve nothing);
- floor: one raw `SELECT count(*)` over the scan's own candidate query, in the same process,
  i.e. the least any implementation must pay to find the rows.

Each figure is the median of `--repeat` runs (the alerts of the kind are deleted before each
first run). Targets: first run <= 3x the floor, second run <= 2x.
"""

import argparse
import resource
import statistics
import sys
import time
import tracemalloc

from bench.dataset import BENCH_MARK, build_dataset, connect, reset

CORE_SCANS = ["update_overdue", "commitment_due_soon", "commitment_missed", "stage_overrun"]
TARGET_FIRST, TARGET_SECOND = 3.0, 2.0


def _timed(function):
    started = time.perf_counter()
    value = function()
    return time.perf_counter() - started, value


def measure(name: str, *, at, repeat: int) -> dict:
    from django.db import connection

    from finance_projects import scans
    from finance_projects.models import Alert

    scan = scans.SCAN_REGISTRY[name]
    sql, params = scan.candidates(at)

    def floor():
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT count(*) FROM ({sql}) AS c", params)
            return cursor.fetchone()[0]

    floor()  # warm the cache for every contender alike
    floors, firsts, seconds = [], [], []
    for _ in range(repeat):
        Alert.objects.filter(kind=name).delete()
        with connection.cursor() as cursor:  # no dead rows from the previous repeat
            cursor.execute("VACUUM ANALYZE finance_projects_alert")
        elapsed, rows = _timed(floor)
        floors.append(elapsed)
        elapsed, first = _timed(lambda: scan(at=at))
        firsts.append(elapsed)
        elapsed, second = _timed(lambda: scan(at=at))
        seconds.append(elapsed)
        if first.opened != rows or (second.opened, second.resolved, second.kept) != (0, 0, rows):
            raise AssertionError(f"{name}: floor {rows}, first {first}, second {second}")
    return {
        "scan": name,
        "rows": rows,
        "first": statistics.median(firsts),
        "second": statistics.median(seconds),
        "floor": statistics.median(floors),
    }


def run(*, scale: float, reuse: bool = False, repeat: int = 3, out=print) -> list[dict]:
    """Build (unless `reuse`) and measure; returns one dict per scan. Django must be set up."""
    from django.db import connection
    from django.utils import timezone

    from finance_projects.models import FinancingProject

    if not reuse or not FinancingProject.objects.filter(code__contains=BENCH_MARK).exists():
        out(f"Building the dataset at scale {scale} ...")
        if BENCH_MARK in connection.settings_dict["NAME"]:
            with connection.cursor() as cursor:
                reset(cursor)
        build_dataset(scale, log=out)
    at = timezone.now()
    tracemalloc.start()
    results = [measure(name, at=at, repeat=repeat) for name in CORE_SCANS]
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    out("")
    header = (
        ("rows", 9),
        ("first ms", 10),
        ("second ms", 11),
        ("floor ms", 10),
        ("first x", 9),
        ("second x", 10),
    )
    out(f"{'scan':<22}" + "".join(f"{title:>{width}}" for title, width in header))
    for row in results:
        row["first_ratio"] = row["first"] / row["floor"]
        row["second_ratio"] = row["second"] / row["floor"]
        out(
            f"{row['scan']:<22}{row['rows']:>9}{row['first'] * 1000:>10.1f}{row['second'] * 1000:>11.1f}"
            f"{row['floor'] * 1000:>10.1f}{row['first_ratio']:>9.2f}{row['second_ratio']:>10.2f}"
        )
    out(f"peak Python memory during the scans (tracemalloc): {peak / 2**20:.1f} MiB; peak RSS: {rss:.0f} MiB")
    out(f"targets: first run <= {TARGET_FIRST}x the floor, second run <= {TARGET_SECOND}x")
    return results


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scale", type=float, default=0.1, help="1.0 = 100,000 projects")
    parser.add_argument("--reuse", action="store_true", help="measure the dataset already in the database")
    parser.add_argument("--repeat", type=int, default=3, help="runs per figure (the median is shown)")
    args = parser.parse_args(argv)
    connect()
    results = run(scale=args.scale, reuse=args.reuse, repeat=args.repeat)
    missed = [
        row["scan"]
        for row in results
        if row["first_ratio"] > TARGET_FIRST or row["second_ratio"] > TARGET_SECOND
    ]
    if missed:
        print(f"over target: {', '.join(missed)}")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
