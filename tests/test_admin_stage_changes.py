"""A project's stage history reads as such in the back office: each stay is named by its stage's
label, the stage it came from and the day it began, in the reader's language and zone (the
project's admin page listed rows like `78: - → inquiry`, a key and raw codes)."""

from datetime import UTC, datetime

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from finance_projects.models import StageTransition

pytestmark = pytest.mark.django_db


def stay(**fields):
    return StageTransition(pk=78, project_id=12, **fields)


def read(transition, language="en", zone="Asia/Shanghai"):
    with translation.override(language), timezone.override(zone):
        return str(transition)


def test_the_first_stage_reads_as_the_start_with_its_day():
    first = stay(stage="inquiry", entered_at=datetime(2026, 3, 1, 2, 0, tzinfo=UTC))

    assert read(first) == "Inquiry (from start) on 2026-03-01"


def test_a_later_stage_names_the_stage_it_came_from():
    moved = stay(stage="term_sheet", from_stage="inquiry", entered_at=datetime(2026, 3, 5, 2, 0, tzinfo=UTC))

    assert read(moved) == "Term sheet ← Inquiry, 2026-03-05"


def test_the_stage_change_reads_in_chinese():
    first = stay(stage="inquiry", entered_at=datetime(2026, 3, 1, 2, 0, tzinfo=UTC))
    moved = stay(stage="term_sheet", from_stage="inquiry", entered_at=datetime(2026, 3, 5, 2, 0, tzinfo=UTC))

    assert read(first, "zh-hans") == "需求洽谈（起始阶段），2026-03-01"
    assert read(moved, "zh-hans") == "条款清单 ← 需求洽谈，2026-03-05"


def test_the_day_is_the_readers_day():
    # 20:00 UTC on 1 March is already 2 March in Shanghai, still 1 March in New York.
    late = stay(
        stage="due_diligence", from_stage="term_sheet", entered_at=datetime(2026, 3, 1, 20, 0, tzinfo=UTC)
    )

    assert read(late, zone="Asia/Shanghai") == "Due diligence ← Term sheet, 2026-03-02"
    assert read(late, zone="America/New_York") == "Due diligence ← Term sheet, 2026-03-01"


def test_the_projects_admin_page_lists_its_stages_by_name(client, admin_user, project):
    project.transitions.update(entered_at=datetime(2026, 3, 1, 2, 0, tzinfo=UTC))
    admin_user.time_zone = "Asia/Shanghai"
    admin_user.language = "en"
    admin_user.save()
    client.force_login(admin_user)

    response = client.get(
        reverse("admin:finance_projects_financingproject_change", args=[project.pk]),
        HTTP_ACCEPT_LANGUAGE="en",
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert "Inquiry (from start) on 2026-03-01" in html
    assert f"{project.transitions.get().pk}: - → inquiry" not in html
