"""Periodic refresh of the stored health scores, registered in `finance_projects.scans.SCAN_REGISTRY`
so the beat and `run_scans` run it with the core scans.

Set-based: the scores of the whole live portfolio come from `health.compute_health` (a fixed number
of aggregate queries) and are written back with one `UPDATE ... FROM` per chunk of projects, the
chunk's values passed as one JSON document (`jsonb_to_recordset` on PostgreSQL, `json_each` on
SQLite). Rows are written in primary-key order, so two refreshes running at once lock them in the
same order and cannot deadlock. Idempotent: a second run at the same moment writes the same values.
"""

import json
from datetime import datetime

from django.db import connection, transaction
from django.utils import timezone

from finance_projects.alerts import ScanResult
from finance_projects.models import FinancingProject

from .health import compute_health, live_projects

CHUNK = 5000

_TABLE = FinancingProject._meta.db_table

_UPDATE = {
    "postgresql": f"""
        UPDATE {_TABLE} AS p
        SET health = v.health, health_factors = v.factors, health_computed_at = %s
        FROM jsonb_to_recordset(%s::jsonb) AS v(id bigint, health smallint, factors jsonb)
        WHERE p.id = v.id
    """,
    "sqlite": f"""
        UPDATE {_TABLE}
        SET health = v.health, health_factors = v.factors, health_computed_at = %s
        FROM (
            SELECT json_extract(value, '$.id') AS id, json_extract(value, '$.health') AS health,
                   json(json_extract(value, '$.factors')) AS factors
            FROM json_each(%s)
        ) AS v
        WHERE {_TABLE}.id = v.id
    """,
}


def refresh_health(at: datetime | None = None) -> ScanResult:
    """Recompute and store every live project's health. Opens and resolves no alert: the result
    reports the refreshed rows as `kept`."""
    at = at or timezone.now()
    scores = compute_health(projects=live_projects(FinancingProject.objects.all()), at=at)
    rows = [
        {"id": pk, "health": health.score, "factors": health.factors} for pk, health in sorted(scores.items())
    ]
    statement = _UPDATE["postgresql" if connection.vendor == "postgresql" else "sqlite"]
    stamp = at if connection.vendor == "postgresql" else connection.ops.adapt_datetimefield_value(at)
    with transaction.atomic(), connection.cursor() as cursor:
        for start in range(0, len(rows), CHUNK):
            cursor.execute(statement, [stamp, json.dumps(rows[start : start + CHUNK])])
    return ScanResult(opened=0, kept=len(rows), resolved=0)
