"""A user without a known time zone reads the dashboard and imports in the site's zone
(TIME_ZONE), like every other page: the dashboard and the import used to fall back to a zone
of their own, Asia/Shanghai, whatever the site's."""

from datetime import UTC, datetime

import pytest

from dashboard.selectors import week_bounds
from finance_projects.imports import import_job_create, import_job_run
from finance_projects.models import Commitment

pytestmark = pytest.mark.django_db


@pytest.fixture
def london_site(settings, owner):
    settings.TIME_ZONE = "Europe/London"
    owner.time_zone = ""
    owner.save(update_fields=["time_zone"])
    return owner


def test_the_dashboards_week_starts_at_the_sites_midnight_for_a_user_without_a_zone(london_site):
    start, end = week_bounds(user=london_site, at=datetime(2026, 12, 2, 12, 0, tzinfo=UTC))

    assert (start, end) == (datetime(2026, 11, 30, tzinfo=UTC), datetime(2026, 12, 7, tzinfo=UTC))


def test_an_imported_due_day_ends_at_the_sites_midnight_for_an_importer_without_a_zone(london_site, project):
    content = f"project,title,kind,due_at\n{project.code},Term sheet,document,2026-12-10\n".encode()
    job = import_job_create(
        kind="commitments", filename="c.csv", content=content, created_by=london_site, language="en"
    )

    job = import_job_run(job_id=job.pk)

    assert job.errors == []
    # The end of that day in London (GMT in December), not in Shanghai (15:59 UTC).
    assert Commitment.objects.get(title="Term sheet").due_at == datetime(2026, 12, 10, 23, 59, tzinfo=UTC)
