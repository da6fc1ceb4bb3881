"""Demo survey history for the demo portfolio: sent invitations over the last six months, and
answers from promoters, passives and detractors in both languages. Safe to run again."""

import random
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from finance_projects.models import Contact, FinancingProject

from . import services
from .models import SurveyInvitation, SurveyKind, SurveyResponse, Trigger

SEED = 20260301
DEMO_CODE_PREFIX = "DEMO-"

# (nps or csat/ces, comment in Chinese, comment in English)
COMMENTS = [
    (
        "high",
        "客户经理很专业，每个节点都主动告知进度。",
        "The RM kept us informed at every step. Very professional.",
    ),
    ("high", "审批效率高，沟通顺畅。", "Fast approval and smooth communication."),
    ("high", "", ""),
    ("mid", "整体不错，希望提款流程再简化一些。", "Good overall, the drawdown process could be simpler."),
    ("mid", "服务可以，就是审批有点慢。", "Service is fine, approval was a bit slow."),
    (
        "low",
        "放款日期一拖再拖，说好的月底放款到现在也没有兑现。",
        "They promised disbursement by month end and missed it twice.",
    ),
    (
        "low",
        "项目进度一直没人通知我们，都是我们主动打电话去问。",
        "Nobody told us the credit committee had postponed the decision.",
    ),
    (
        "low",
        "材料要求反复补充，同样的资料交了三次，流程太复杂。",
        "We had to resubmit the same documents three times, far too complicated.",
    ),
    (
        "low",
        "对接的同事态度很差，问两句就不耐烦。",
        "The credit officer was rude and dismissive on the phone.",
    ),
    (
        "low",
        "问题反馈之后石沉大海，拖了一个多月还没解决。",
        "Our query took six weeks and is still unresolved.",
    ),
]

SCORES = {
    "high": {"nps": (9, 10), "csat": (4, 5), "ces": (5, 7)},
    "mid": {"nps": (7, 8), "csat": (3, 4), "ces": (4, 5)},
    "low": {"nps": (0, 6), "csat": (1, 2), "ces": (1, 3)},
}


def _raw(invitation: SurveyInvitation, rng: random.Random, band: str, comment: str) -> dict[str, str]:
    raw = {}
    for question in invitation.survey.questions.all():
        field = f"q_{question.pk}"
        if question.type in SCORES[band]:
            low, high = SCORES[band][question.type]
            raw[field] = str(rng.randint(low, high))
        elif question.type == "text" and comment:
            raw[field] = comment
        elif question.type == "choice":
            raw[field] = "yes" if band == "low" else "no"
    return raw


@transaction.atomic
def seed_feedback(stdout) -> dict[str, int]:
    """Add the survey history that is missing; print and return the totals."""
    rng = random.Random(SEED)
    now = timezone.now()
    surveys = {kind: services.active_survey(kind) for kind in (SurveyKind.RELATIONSHIP, SurveyKind.MILESTONE)}
    projects = list(
        FinancingProject.objects.filter(code__startswith=DEMO_CODE_PREFIX)
        .select_related("relationship_manager")
        .order_by("code")
    )
    contacts: dict[int, list[Contact]] = {}
    for contact in Contact.objects.filter(client__projects__in=projects).distinct().order_by("id"):
        contacts.setdefault(contact.client_id, []).append(contact)
    created = 0
    for project in projects:
        for number, contact in enumerate(contacts.get(project.client_id, [])[:2]):
            key = f"demo:{project.code}:{number}"
            if SurveyInvitation.objects.filter(dedupe_key=key).exists():
                continue
            # As in a bank that has used the product for a while: each client had its relationship
            # survey in the last six months (so the scan does not invite them all at once), more
            # than a month ago (so the RM may still send one by hand); milestones came and went.
            if number == 0:
                kind, days = SurveyKind.RELATIONSHIP, rng.randint(35, 170)
            else:
                kind, days = SurveyKind.MILESTONE, rng.randint(5, 180)
            if services.unsendable_reason(surveys[kind]):  # none active, or nothing to answer
                continue
            sent_at = now - timedelta(days=days, hours=rng.randint(0, 23))
            invitation = SurveyInvitation.objects.create(
                project=project,
                contact=contact,
                survey=surveys[kind],
                trigger=Trigger.DEMO,
                stage=project.stage,
                dedupe_key=key,
                created_at=sent_at,
                sent_at=sent_at,
                expires_at=sent_at + timedelta(days=30),
                reminders_sent=rng.choice([0, 0, 1, 2]),
            )
            created += 1
            if rng.random() < 0.3:
                continue  # no answer
            # Most clients are content; about one in five is a detractor.
            band = rng.choices(["high", "mid", "low"], weights=[5, 3, 2])[0]
            _band, comment_zh, comment_en = rng.choice([c for c in COMMENTS if c[0] == band])
            comment = comment_en if contact.language == "en" else comment_zh
            submitted_at = sent_at + timedelta(days=rng.randint(0, 6), hours=rng.randint(1, 12))
            services.response_submit(
                invitation=invitation,
                raw=_raw(invitation, rng, band, comment),
                language=contact.language,
                at=min(submitted_at, now),
                process_now=True,  # no worker needed for a demo: tagged and alerted here
            )
    totals = {
        "survey invitations": SurveyInvitation.objects.filter(dedupe_key__startswith="demo:").count(),
        "invitations created now": created,
        "survey responses": SurveyResponse.objects.filter(
            invitation__dedupe_key__startswith="demo:", submitted_at__isnull=False
        ).count(),
        "detractors": SurveyResponse.objects.filter(
            invitation__dedupe_key__startswith="demo:", is_detractor=True
        ).count(),
    }
    for name, count in totals.items():
        stdout.write(f"  {name:<24} {count:>6}")
    return totals
