"""Periodic detection for surveys: which clients are due a relationship survey.

Set-based: one query locks every due contact, one reads them, one INSERT writes their
invitations and one INSERT their skips. The deduplication key names the client's previous
relationship survey, so a rerun or a second worker inserts nothing new (the unique constraint
drops the duplicates).
"""

from datetime import datetime, timedelta

from dateutil.relativedelta import relativedelta
from django.db import transaction
from django.db.models import Exists, OuterRef, Subquery
from django.utils import timezone

from finance_projects.models import Contact, FinancingProject, ProjectStatus

from .conf import feedback_setting
from .models import SkipReason, SurveyInvitation, SurveyKind, SurveySkip, Trigger
from .services import active_survey, unsendable_reason


@transaction.atomic
def scan_relationship_surveys(*, at: datetime | None = None) -> int:
    """Invite every contact of each client with no relationship survey in the last N months.

    Returns the number of invitations created; the delivery task emails them. A contact who is
    due but cannot be invited (opted out, no e-mail, surveyed recently, no relationship survey
    active, or one without questions) gets a skip with its reason, once per due period (the
    same key as the invitation would have had).
    """
    at = at or timezone.now()
    survey = active_survey(SurveyKind.RELATIONSHIP)
    blocked = unsendable_reason(survey)  # none active, or no questions: every due contact is a skip
    due_since = at - relativedelta(months=feedback_setting("RELATIONSHIP_EVERY_MONTHS"))
    cap_since = at - timedelta(days=feedback_setting("FREQUENCY_CAP_DAYS"))
    # Any relationship survey settles the client's period, whatever sent it: one an RM sent by
    # hand (or the demo's) as much as the scan's own, and one revoked before it was e-mailed too
    # (revoking the scan's invitation is how an RM holds this period's survey back). Only the
    # contact frequency cap leaves those out: they asked nobody anything.
    relationship = SurveyInvitation.objects.filter(
        contact__client_id=OuterRef("client_id"), survey__kind=SurveyKind.RELATIONSHIP
    )
    latest_project = FinancingProject.objects.filter(
        client_id=OuterRef("client_id"), status=ProjectStatus.ACTIVE
    ).order_by("-created_at", "-id")
    due = (
        Contact.objects.annotate(project_id=Subquery(latest_project.values("id")[:1]))
        .filter(project_id__isnull=False)
        .exclude(Exists(relationship.filter(created_at__gt=due_since)))
    )
    # The due contacts are locked before they are read, as `survey_send` locks its contact: a
    # survey sent to one of them meanwhile has committed and counts against the cap below, or
    # waits for this transaction and then finds these invitations.
    due_ids = list(
        Contact.objects.select_for_update()
        .filter(pk__in=due.values("pk"))
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    candidates = list(
        due.filter(pk__in=due_ids)
        .annotate(
            project_stage=Subquery(latest_project.values("stage")[:1]),
            previous_id=Subquery(relationship.order_by("-created_at", "-id").values("id")[:1]),
            capped=Exists(
                SurveyInvitation.objects.reached(contact_id=OuterRef("pk")).filter(created_at__gt=cap_since)
            ),
        )
        .values(
            "id", "client_id", "email", "opted_out", "capped", "project_id", "project_stage", "previous_id"
        )
    )
    expires_at = at + timedelta(days=feedback_setting("LINK_DAYS"))
    invitations, skips = [], []
    for row in candidates:
        key = f"relationship:{row['client_id']}:{row['previous_id'] or 0}:{row['id']}"
        reason = (
            blocked
            if blocked
            else SkipReason.OPTED_OUT
            if row["opted_out"]
            else SkipReason.NO_EMAIL
            if not row["email"]
            else SkipReason.FREQUENCY_CAP
            if row["capped"]
            else None
        )
        if reason:
            skips.append(
                SurveySkip(
                    contact_id=row["id"],
                    project_id=row["project_id"],
                    survey=survey,
                    trigger=Trigger.RELATIONSHIP,
                    reason=reason,
                    dedupe_key=f"skip:{key}",
                    at=at,
                )
            )
        else:
            invitations.append(
                SurveyInvitation(
                    project_id=row["project_id"],
                    contact_id=row["id"],
                    survey=survey,
                    trigger=Trigger.RELATIONSHIP,
                    stage=row["project_stage"],
                    dedupe_key=key,
                    created_at=at,
                    expires_at=expires_at,
                )
            )
    if not invitations and not skips:
        return 0
    SurveySkip.objects.bulk_create(skips, ignore_conflicts=True)
    existing = set(
        SurveyInvitation.objects.filter(dedupe_key__in=[i.dedupe_key for i in invitations]).values_list(
            "dedupe_key", flat=True
        )
    )
    new = [invitation for invitation in invitations if invitation.dedupe_key not in existing]
    SurveyInvitation.objects.bulk_create(new, ignore_conflicts=True)
    return len(new)
