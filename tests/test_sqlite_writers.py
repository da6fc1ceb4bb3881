"""On the embedded SQLite default, two requests writing at once take turns instead of one
failing with "database is locked"."""

import threading
import time

import pytest
from django.conf import settings
from django.db import connection, connections, transaction

pytestmark = pytest.mark.skipif(connection.vendor != "sqlite", reason="the SQLite default only")


@pytest.fixture
def two_connections(tmp_path, django_db_blocker):
    """Two connections to one database file, configured as the site's (settings.DATABASES)."""
    configured = {**connection.settings_dict, "NAME": str(tmp_path / "shared.sqlite3")}
    configured["OPTIONS"] = dict(settings.DATABASES["default"]["OPTIONS"])
    aliases = ["writer_a", "writer_b"]
    for alias in aliases:
        connections.settings[alias] = dict(configured)
    with django_db_blocker.unblock():  # a file of its own, not the test database
        with connections["writer_a"].cursor() as cursor:
            cursor.execute("CREATE TABLE counted (n integer)")
        yield aliases
        for alias in aliases:
            connections[alias].close()
            del connections[alias]
            del connections.settings[alias]


def read_then_write(alias: str, *, pause: float, errors: list):
    try:
        with transaction.atomic(using=alias), connections[alias].cursor() as cursor:
            cursor.execute("SELECT count(*) FROM counted")
            time.sleep(pause)
            cursor.execute("INSERT INTO counted VALUES (1)")
    except Exception as error:  # the failure is what the test looks at
        errors.append(error)
    finally:
        connections[alias].close()


def test_a_transaction_that_reads_then_writes_waits_for_another_writer_instead_of_failing(two_connections):
    errors = []
    first = threading.Thread(
        target=read_then_write, args=("writer_a",), kwargs={"pause": 0.5, "errors": errors}
    )
    second = threading.Thread(
        target=read_then_write, args=("writer_b",), kwargs={"pause": 0, "errors": errors}
    )

    first.start()
    time.sleep(0.1)  # the second starts while the first holds its transaction open
    second.start()
    first.join()
    second.join()

    assert errors == []
    with connections["writer_a"].cursor() as cursor:
        cursor.execute("SELECT count(*) FROM counted")
        assert cursor.fetchone() == (2,)
