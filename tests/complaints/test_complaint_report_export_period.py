"""An export over a period that is not one exports nothing: it answers 400 with the reports page
and the error next to the field, as the page itself does."""

import pytest
from django.urls import reverse

from tests.html_ids import assert_ids_sound

pytestmark = pytest.mark.django_db

NOT_A_PERIOD = [
    ({"start": "2026-03-10", "end": "2026-03-01"}, "end"),
    ({"start": "abc"}, "start"),
    ({"end": "2026-02-30"}, "end"),
]


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
@pytest.mark.parametrize(("query", "field"), NOT_A_PERIOD)
def test_an_export_over_a_period_that_is_not_one_exports_nothing_and_says_so_on_its_field(
    client, resolved, manager, fmt, query, field
):
    client.force_login(manager)

    response = client.get(reverse("complaints:export", args=[fmt]), query, HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 400
    assert "Content-Disposition" not in response
    assert response["Content-Type"].startswith("text/html")
    html = response.content.decode()
    assert f'id="id_{field}_error"' in html
    assert resolved.reference not in html
    assert_ids_sound(html)
    # Showing the page again asks the page, not the export.
    assert f'action="{reverse("complaints:reports")}"' in html


def test_an_export_over_a_good_period_still_downloads(client, resolved, manager):
    client.force_login(manager)
    day = resolved.received_at.date().isoformat()

    response = client.get(reverse("complaints:export", args=["csv"]), {"start": day, "end": day})

    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    assert resolved.reference in response.content.decode("utf-8-sig")


def test_an_export_in_an_unknown_format_is_not_found_whatever_the_period(client, manager):
    client.force_login(manager)

    response = client.get(reverse("complaints:export", args=["pdf"]), {"start": "abc"})

    assert response.status_code == 404
