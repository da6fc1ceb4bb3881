"""Raw reads for the dashboard pages.

The lists of the pages are read as SQL: building and compiling large annotated querysets cost
more than running them. Which projects a user sees still comes from the scoping rule of
`finance_projects.selectors` (`portfolio_for`, or a narrower queryset of it), compiled once per
page into a `Scope`; values always go in as parameters.
"""

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import QuerySet
from django.utils.dateparse import parse_datetime

from accounts.models import User
from finance_projects.models import FinancingProject
from finance_projects.selectors import portfolio_for

NO_PROJECTS = "SELECT id FROM finance_projects_financingproject WHERE 1 = 0"


def ids_sql(projects: QuerySet | Iterable[int]) -> tuple[str, tuple]:
    """The ids of `projects` (a queryset, or ids) as SQL for `IN (...)` and its parameters."""
    if isinstance(projects, QuerySet):
        try:
            sql, params = projects.order_by().values("pk").query.sql_with_params()
        except EmptyResultSet:  # a queryset known to be empty (`.none()`) has no SQL
            return NO_PROJECTS, ()
        return sql, tuple(params)
    ids = tuple(projects)
    return (", ".join(["%s"] * len(ids)), ids) if ids else (NO_PROJECTS, ())


@dataclass(frozen=True)
class Scope:
    """The projects a user may see, as an SQL subquery of their ids and its parameters."""

    user: User
    sql: str
    params: tuple

    @classmethod
    def of(cls, user: User, projects: QuerySet[FinancingProject] | None = None) -> "Scope":
        """`portfolio_for(user)`, or `projects` (a narrower queryset of it), compiled."""
        sql, params = ids_sql(portfolio_for(user) if projects is None else projects)
        return cls(user=user, sql=sql, params=params)


def _adapted(params: Iterable) -> list:
    # Datetimes go in as the ORM sends them (SQLite compares them as text in UTC).
    adapt = connection.ops.adapt_datetimefield_value
    return [adapt(value) if isinstance(value, datetime) else value for value in params]


def fetch(sql: str, params: Iterable) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, _adapted(params))
        return cursor.fetchall()


def stream(sql: str, params: Iterable, *, chunk_size: int) -> Iterator[tuple]:
    """The rows of `sql`, read `chunk_size` at a time: through a server-side cursor on
    PostgreSQL unless the settings turn those off (a transaction-mode pooler cannot keep one)."""
    server_side = not connection.settings_dict.get("DISABLE_SERVER_SIDE_CURSORS")
    with connection.chunked_cursor() if server_side else connection.cursor() as cursor:
        cursor.execute(sql, _adapted(params))
        while rows := cursor.fetchmany(chunk_size):
            yield from rows


def as_datetime(value) -> datetime | None:
    """A datetime of a raw row: PostgreSQL answers aware ones, SQLite text (computed columns) or
    naive UTC (table columns)."""
    if value is None or (isinstance(value, datetime) and value.tzinfo is not None):
        return value
    if isinstance(value, str):
        value = parse_datetime(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value
