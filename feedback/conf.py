"""Feedback rules a bank can change without code: `settings.FEEDBACK` overrides these defaults."""

from django.conf import settings

DEFAULTS = {
    # A milestone survey goes out when a project enters one of these stages.
    "MILESTONE_STAGES": ["term_sheet", "credit_approval", "disbursement"],
    # Every client gets a relationship survey this often.
    "RELATIONSHIP_EVERY_MONTHS": 6,
    # No contact is invited more than once in this many days, across all projects.
    "FREQUENCY_CAP_DAYS": 30,
    # A recovery survey the frequency cap holds back is sent once the contact may be surveyed
    # again, if that is at most this many days after the complaint was resolved; otherwise it
    # is skipped.
    "RECOVERY_HOLD_DAYS": 30,
    # How long a survey link stays valid.
    "LINK_DAYS": 30,
    # Reminders to non-responders, in days after the invitation was emailed (at most two).
    "REMINDER_DAYS": [3, 7],
    # Give up emailing an invitation after this many failed attempts.
    "MAX_SEND_ATTEMPTS": 5,
    # Invitations delivered per run of the delivery task.
    "DELIVERY_BATCH": 200,
    # Requests per minute and IP address on the public survey pages.
    "PUBLIC_RATE_PER_MINUTE": 60,
    # A submitted response waits at most about this long for a worker to tag its comment and
    # raise the detractor alert: each web process wakes the worker at most this often.
    "PROCESSING_DELAY_SECONDS": 1,
    # Bank name shown to clients on the survey page and in emails.
    "BANK_NAME": "",
}


def feedback_setting(name: str):
    return getattr(settings, "FEEDBACK", {}).get(name, DEFAULTS[name])
