"""Demo complaints in every state, bilingual, one raised from the client status page.
Idempotent: each demo complaint carries a fixed source key and is made only once."""

from datetime import timedelta

from django.db.models import Q
from django.utils import timezone

from accounts.models import Role, User
from finance_projects.models import Contact, FinancingProject, ProjectStatus

from . import services
from .models import Complaint

DEMO = [
    # key, channel, category, severity, days ago, final state, description
    (
        "demo:1",
        "phone",
        "late_information",
        "high",
        4,
        "new",
        "放款审批已经两周没有任何消息，我们的施工队在等资金进场。",
    ),
    (
        "demo:2",
        "email",
        "broken_commitment",
        "medium",
        17,
        "investigating",
        "You promised the revised term sheet by last Friday. We still have nothing.",
    ),
    (
        "demo:3",
        "status_page",
        "slow_resolution",
        "medium",
        1,
        "client",
        "抵押登记的问题反映了三次，至今没有解决。",
    ),
    (
        "demo:4",
        "meeting",
        "service_attitude",
        "low",
        24,
        "closed",
        "The analyst was dismissive when our CFO asked about the covenant test.",
    ),
    (
        "demo:5",
        "letter",
        "complex_process",
        "high",
        12,
        "extended",
        "提款需要重复提交同一套材料，每次都换一个人来要。",
    ),
]


def _handler(project: FinancingProject) -> User | None:
    """Someone on the project's team who is not its RM (the independence rule)."""
    return (
        User.objects.filter(team_id=project.team_id, is_active=True)
        .filter(Q(role=Role.RELATIONSHIP_MANAGER) | Q(role=Role.MANAGER))
        .exclude(pk=project.relationship_manager_id)
        .order_by("role", "pk")
        .first()
    )


def seed_complaints(stdout) -> None:
    projects = list(
        FinancingProject.objects.filter(status=ProjectStatus.ACTIVE, client__contacts__isnull=False)
        .distinct()
        .order_by("pk")[: len(DEMO)]
    )
    if not projects:
        stdout.write("  no active projects with contacts: skipped")
        return
    made = 0
    now = timezone.now()
    for index, (key, channel, category, severity, days, state, text) in enumerate(DEMO):
        if Complaint.objects.filter(source_key=key).exists():
            continue
        project = projects[index % len(projects)]
        contact = Contact.objects.filter(client_id=project.client_id).order_by("pk").first()
        handler = _handler(project)
        if state == "client":
            services.complaint_raise_from_client(
                project=project, contact=contact, description=text, category=category, source_key=key
            )
            made += 1
            continue
        complaint = services.complaint_create(
            project=project,
            contact=contact,
            channel=channel,
            category=category,
            severity=severity,
            description=text,
            received_at=now - timedelta(days=days),
            created_by=handler,
            source_key=key,
        )
        if state != "new" and handler is not None:
            complaint = services.complaint_acknowledge(
                complaint=complaint, by=handler, at=complaint.received_at + timedelta(hours=5)
            )
            services.recovery_action_add(
                complaint=complaint,
                kind="apology",
                description="致电客户财务总监致歉并说明时间表。",
                owner=handler,
                due_at=now + timedelta(days=2),
                by=handler,
            )
            if state in ("investigating", "extended"):
                complaint = services.complaint_start_investigation(complaint=complaint, by=handler)
            if state == "extended":
                services.complaint_extend(
                    complaint=complaint, by=handler, reason="需要信贷审批部门复核历史材料，属于复杂投诉。"
                )
            if state == "closed":
                complaint = services.complaint_resolve(
                    complaint=complaint,
                    by=handler,
                    response_channel="email",
                    root_cause="training_gap",
                    response_text="We apologise. The analyst has been coached and your covenant query "
                    "is answered "
                    "in the attached note.",
                    at=now - timedelta(days=10),
                )
                services.complaint_close(complaint=complaint, by=handler, client_confirmed=True)
        made += 1
    stdout.write(f"  complaints: {made} created")
