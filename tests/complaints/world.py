"""Everything a complaint step could write, to show that a refused one wrote nothing."""

from django.core import mail

from complaints.models import CaseStudy, Complaint, ComplaintEvent, FollowUpVisit, RecoveryAction
from finance_projects.models import Touchpoint


def world():
    complaints = list(Complaint.objects.order_by("pk").values())
    for row in complaints:
        row.pop("updated_at")
    return (
        complaints,
        list(ComplaintEvent.objects.order_by("pk").values_list("pk", "kind")),
        list(RecoveryAction.objects.order_by("pk").values()),
        list(FollowUpVisit.objects.order_by("pk").values()),
        Touchpoint.objects.count(),
        CaseStudy.objects.count(),
        len(mail.outbox),
    )
