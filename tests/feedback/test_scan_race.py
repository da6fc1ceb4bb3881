"""The relationship scan and a survey sent by hand to the same contact at the same moment, on
PostgreSQL: the frequency cap holds, whichever comes first."""

import threading
import time

import pytest
from django.db import connection

from feedback import scans, services
from feedback.models import SkipReason, SurveyInvitation, SurveySkip, Trigger
from tests.factories import shipped_survey

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def waits_for_a_lock() -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_locks WHERE NOT granted")
        return cursor.fetchone()[0] > 0


def test_a_survey_sent_by_hand_while_the_scan_runs_is_held_back_by_the_frequency_cap(
    project, contact, monkeypatch
):
    shipped_survey("relationship")
    milestone = shipped_survey("milestone")
    monkeypatch.setattr(services, "_deliver_after_commit", lambda: None)
    outcome = []

    def send_by_hand():
        try:
            result = services.survey_send(
                project=project, contact=contact, survey=milestone, trigger=Trigger.MANUAL
            )
            outcome.append(result.skip.reason if result.skip else "invited")
        finally:
            connection.close()

    sender = threading.Thread(target=send_by_hand)
    insert_skips = SurveySkip.objects.bulk_create

    def send_by_hand_after_the_scan_has_read_its_contacts(*args, **kwargs):
        sender.start()
        deadline = time.monotonic() + 10
        while sender.is_alive() and not waits_for_a_lock() and time.monotonic() < deadline:
            time.sleep(0.02)
        return insert_skips(*args, **kwargs)

    monkeypatch.setattr(SurveySkip.objects, "bulk_create", send_by_hand_after_the_scan_has_read_its_contacts)

    assert scans.scan_relationship_surveys() == 1
    sender.join(timeout=10)

    assert outcome == [SkipReason.FREQUENCY_CAP]
    assert list(SurveyInvitation.objects.values_list("trigger", flat=True)) == [Trigger.RELATIONSHIP]
