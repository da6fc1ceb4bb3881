"""The owner's side of the permission matrix: one object of every kind a route can point at,
all hanging off the owner's project, plus a working token for every client link."""

from dataclasses import dataclass
from datetime import timedelta

from django.utils import timezone

from accounts.models import User
from complaints.models import CaseStudy, ComplaintLink, FollowUpVisit
from digests.emails import unsubscribe_token
from finance_projects import services as project_services
from finance_projects.models import (
    Alert,
    Client,
    Commitment,
    Contact,
    FinancingProject,
    ImportJob,
    ProjectStatusLink,
    Touchpoint,
)
from finance_projects.tokens import hash_token, new_token
from tests.factories import (
    AlertFactory,
    CommitmentFactory,
    ComplaintFactory,
    InvitationFactory,
    RecoveryActionFactory,
    SurveyResponseFactory,
    TouchpointFactory,
    ensure_sla_policies,
    invitation_with_link,
    shipped_survey,
)


@dataclass
class World:
    owner: User
    client: Client
    contact: Contact
    project: FinancingProject
    touchpoint: Touchpoint
    commitment: Commitment
    alert: Alert
    complaint: object
    recovery_action: object
    followup: FollowUpVisit
    case: CaseStudy
    survey: object
    invitation: object
    response: object
    import_job: ImportJob
    status_link: ProjectStatusLink
    survey_token: str
    status_token: str
    complaint_token: str
    unsubscribe_token: str


def build_world(*, owner: User, client: Client, contact: Contact, project: FinancingProject) -> World:
    ensure_sla_policies()
    now = timezone.now()
    commitment = CommitmentFactory(project=project, owner=owner)
    complaint = ComplaintFactory(project=project, contact=contact)
    learned_from = ComplaintFactory(project=project, contact=contact)
    invitation, survey_token = invitation_with_link(project=project, contact=contact)
    status_link, status_token = project_services.status_link_create(
        project=project, contact=contact, created_by=owner
    )
    complaint_token = new_token()
    ComplaintLink.objects.create(
        complaint=complaint, token_hash=hash_token(complaint_token), expires_at=now + timedelta(days=30)
    )
    return World(
        owner=owner,
        client=client,
        contact=contact,
        project=project,
        touchpoint=TouchpointFactory(project=project, contact=contact),
        commitment=commitment,
        alert=AlertFactory(project=project, subject_id=commitment.pk),
        complaint=complaint,
        recovery_action=RecoveryActionFactory(complaint=complaint, owner=owner),
        followup=FollowUpVisit.objects.create(
            complaint=complaint, offset_days=7, due_at=now + timedelta(days=7)
        ),
        case=CaseStudy.objects.create(
            complaint=learned_from,
            category="late_information",
            title_zh="信贷审批延期未告知客户",
            title_en="Credit committee delay not told to the client",
            summary_zh="客户从第三方得知审批推迟。",
            summary_en="The client heard about the postponement from a third party.",
            lessons_zh="审批时间表变化当天通知客户。",
            lessons_en="Tell the client the day the approval timetable changes.",
        ),
        survey=shipped_survey("relationship"),
        invitation=invitation,
        response=SurveyResponseFactory(invitation=InvitationFactory(project=project, contact=contact)),
        import_job=ImportJob.objects.create(kind="clients", filename="clients.csv", created_by=owner),
        status_link=status_link,
        survey_token=survey_token,
        status_token=status_token,
        complaint_token=complaint_token,
        unsubscribe_token=unsubscribe_token(owner),
    )
