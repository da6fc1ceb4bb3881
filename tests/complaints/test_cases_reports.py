"""Case library anonymisation, search, the reports' numbers and the recovery effect."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from complaints import selectors, services
from complaints.models import CaseStudy
from tests.factories import ComplaintFactory

pytestmark = pytest.mark.django_db


def test_a_published_case_keeps_no_client_name_contact_detail_or_amount(project, contact, teammate, manager):
    contact.phone = "+86 138 0013 8000"
    contact.save()
    complaint = ComplaintFactory(
        project=project,
        contact=contact,
        description=(
            f"{contact.name} ({contact.email}, tel {contact.phone}) of 华能新能源 says Huaneng Renewables "
            f"waited for the {project.name} ({project.code}) drawdown of CNY 120,000,000 and 3,500万元; "
            "call back on 021-5555-1234 or mail cfo@huaneng.example."
        ),
    )
    services.complaint_acknowledge(complaint=complaint, by=teammate)
    services.complaint_resolve(
        complaint=complaint,
        by=teammate,
        response_text=f"Dear {contact.name}, we refund ¥8,000.",
        response_channel="letter",
        root_cause="no_early_warning",
    )
    case = services.case_publish(
        complaint=complaint,
        by=manager,
        title_zh="华能新能源 放款延迟未告知",
        title_en="Huaneng drawdown delay",
        lessons_zh=f"应提前告知{contact.name}。",
        lessons_en="Warn the client before a committee slips.",
        what_worked_en=f"A call from {owner_name(project)} and a 5,000 USD fee waiver.",
    )
    texts = " ".join(
        getattr(case, f"{name}_{lang}")
        for name in ("title", "summary", "lessons", "what_worked")
        for lang in ("zh", "en")
    )
    for secret in (
        "华能",
        "Huaneng",
        contact.name,
        contact.email,
        "138",
        "8000",
        "5555",
        "cfo@",
        project.name,
        project.code,
        "120,000,000",
        "3,500",
        "8,000",
        "5,000",
        owner_name(project),
        complaint.reference,
    ):
        assert secret.lower() not in texts.lower(), secret
    assert "drawdown" in case.summary_en and "[" in case.summary_en
    with pytest.raises(ValidationError):
        services.case_publish(
            complaint=complaint, by=manager, title_zh="again", title_en="", lessons_zh="x", lessons_en=""
        )


def owner_name(project):
    return project.relationship_manager.get_full_name()


def test_an_open_complaint_cannot_be_published(complaint, manager):
    with pytest.raises(ValidationError):
        services.case_publish(
            complaint=complaint, by=manager, title_zh="t", title_en="t", lessons_zh="l", lessons_en="l"
        )
    assert not CaseStudy.objects.exists()


def test_the_case_library_is_searchable_by_category_cause_and_text(resolved, manager):
    services.case_publish(
        complaint=resolved,
        by=manager,
        title_zh="委员会延期未通知",
        title_en="Committee slip not told",
        lessons_zh="每周同步",
        lessons_en="Weekly update call",
    )
    assert selectors.cases_search(q="weekly").count() == 1
    assert selectors.cases_search(q="每周").count() == 1
    assert selectors.cases_search(category="late_information").count() == 1
    assert selectors.cases_search(root_cause="training_gap").count() == 0


def test_the_report_counts_compliance_buckets_and_pareto(
    project, contact, teammate, manager, time_machine, received_at
):
    time_machine.move_to(received_at, tick=False)
    start = resolved_at = None
    for days, cause in (
        (3, "internal_communication"),
        (20, "internal_communication"),
        (40, "process_design"),
    ):
        complaint = ComplaintFactory(project=project, contact=contact)
        start = start or complaint.received_at
        services.complaint_acknowledge(complaint=complaint, by=teammate)
        if days > 15:
            services.complaint_extend(complaint=complaint, by=teammate, reason="Complex.")
        if days > 30:
            services.complaint_extend(complaint=complaint, by=manager, reason="Special.")
        time_machine.shift(timedelta(days=days))
        resolved_at = services.complaint_resolve(
            complaint=complaint,
            by=teammate,
            response_text="Done.",
            response_channel="phone",
            root_cause=cause,
        ).resolved_at
        time_machine.shift(timedelta(days=-days))
    ComplaintFactory(project=project, contact=contact)
    report = selectors.complaint_report(selectors.report_rows(manager))
    assert report.total == 4 and report.open == 1
    assert report.resolve_on_time == 100.0
    buckets = dict(report.buckets)
    assert list(buckets.values()) == [1, 1, 1, 0, 1]
    assert [(n, cum) for _label, n, cum in report.pareto] == [(2, 66.7), (1, 100.0)]
    assert report.resolve_days["median"] == 20.0
    assert resolved_at is not None


def test_recovery_effect_counts_detractors_who_became_promoters(resolved, manager):
    from feedback.models import Survey, SurveyInvitation, SurveyResponse

    survey = Survey.objects.create(name_zh="满意度", name_en="Satisfaction")
    for nps, moment in (
        (3, resolved.resolved_at - timedelta(days=5)),
        (10, resolved.resolved_at + timedelta(days=9)),
    ):
        invitation = SurveyInvitation.objects.create(
            project=resolved.project,
            contact=resolved.contact,
            survey=survey,
            trigger="manual",
            stage=resolved.project.stage,
            expires_at=moment + timedelta(days=30),
            created_at=moment,
        )
        SurveyResponse.objects.create(
            invitation=invitation, submitted_at=moment, nps=nps, is_detractor=nps <= 6
        )
    effect = selectors.recovery_effect(manager)
    assert effect.detractors_before == 1
    assert effect.became_promoters == 1


@pytest.mark.parametrize(
    ("field", "length"),
    [
        ("title_en", 201),
        ("title_zh", 201),
        ("lessons_en", 4001),
        ("what_worked_zh", 4001),
        ("summary_en", 4001),
    ],
)
def test_a_case_text_over_its_limit_is_refused_on_its_field_and_nothing_is_published(
    resolved, manager, field, length
):
    texts = {"title_zh": "委员会延期未通知", "title_en": "", "lessons_zh": "每周同步", "lessons_en": ""}

    with pytest.raises(ValidationError) as refused:
        services.case_publish(complaint=resolved, by=manager, **{**texts, field: "x" * length})

    assert list(refused.value.message_dict) == [field]
    assert not CaseStudy.objects.exists()


def test_a_complaint_still_unacknowledged_past_its_deadline_counts_as_late(
    project, contact, teammate, manager, time_machine
):
    time_machine.move_to(timezone.now(), tick=False)
    on_time = ComplaintFactory(project=project, contact=contact)
    services.complaint_acknowledge(complaint=on_time, by=teammate)
    ComplaintFactory(project=project, contact=contact)  # never acknowledged
    time_machine.shift(timedelta(days=5))
    ComplaintFactory(project=project, contact=contact)  # received now: not due yet

    report = selectors.complaint_report(selectors.report_rows(manager))

    assert report.ack_on_time == 50.0


@pytest.mark.parametrize(
    ("query", "field"),
    [({"start": "2026-03-10", "end": "2026-03-01"}, "end"), ({"start": "abc"}, "start")],
)
def test_a_report_period_that_is_not_one_says_so_on_its_field(client, manager, query, field):
    client.force_login(manager)

    response = client.get(reverse("complaints:reports"), query, HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 400
    assert f'id="id_{field}_error"' in response.content.decode()
