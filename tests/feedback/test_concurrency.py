"""Twenty browsers submitting one survey link at the same moment store exactly one response,
processed once (one detractor alert)."""

import threading

import pytest
from django.db import connection

from feedback import services
from feedback.models import SurveyInvitation, SurveyResponse
from finance_projects.models import Alert
from tests.factories import invitation_with_link, shipped_survey
from tests.feedback.conftest import answers_for


def at_once(submit, *, times: int = 20) -> list[str]:
    """Run `submit` in `times` threads released together; each returns its outcome as text (an
    unexpected error shows as its repr)."""
    barrier, lock, outcomes = threading.Barrier(times), threading.Lock(), []

    def run():
        try:
            barrier.wait()
            result = submit()
        except Exception as error:  # anything else is a bug the test must show
            result = repr(error)
        finally:
            connection.close()
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=run) for _ in range(times)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sorted(outcomes)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_submissions_store_exactly_one_response(project, contact, eager_celery):
    survey = shipped_survey("relationship")
    invitation, _token = invitation_with_link(project=project, contact=contact, survey=survey)
    raw = answers_for(survey, nps="2", text="No one told us about the delay.")

    def submit():
        fresh = SurveyInvitation.objects.select_related("survey", "contact", "project").get(pk=invitation.pk)
        try:
            services.response_submit(invitation=fresh, raw=raw)
        except services.InvitationClosed:
            return "closed"
        return "stored"

    assert at_once(submit) == ["closed"] * 19 + ["stored"]
    assert SurveyResponse.objects.filter(invitation=invitation, submitted_at__isnull=False).count() == 1
    assert Alert.objects.filter(kind="detractor_response").count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_submissions_through_the_link_store_exactly_one_response(project, contact):
    survey = shipped_survey("relationship")
    services.survey_questions(survey)  # the page's one-statement path needs the questions cached
    invitation, token = invitation_with_link(project=project, contact=contact, survey=survey)
    raw = answers_for(survey, nps="2", text="No one told us about the delay.")

    def submit():
        return "not stored" if services.response_submit_for_link(token=token, raw=raw) is None else "stored"

    assert at_once(submit) == ["not stored"] * 19 + ["stored"]
    assert SurveyResponse.objects.filter(invitation=invitation, submitted_at__isnull=False).count() == 1
    assert SurveyInvitation.objects.get(pk=invitation.pk).responded_at is not None
