"""Invitations keep what an automatic reason is made of, not a sentence in one language.

Milestone and recovery reasons were stored translated into the language of whoever sent them
(a worker, the RM) and shown as such to the client. From now on the stage or the complaint
reference is stored and the sentence is written in the contact's language when shown; existing
rows get their parameters back from the transition or from the reference in the old text.
"""

import re

from django.db import migrations, models

REFERENCE = re.compile(r"CP-\d{4}-\d+")
BATCH = 500


def _transition_id(dedupe_key: str | None) -> int | None:
    """The transition a milestone invitation was sent for ("milestone:<transition>:<contact>")."""
    parts = (dedupe_key or "").split(":")
    return int(parts[1]) if len(parts) == 3 and parts[1].isdigit() else None


def _params(invitation, stages: dict[int, str]) -> dict | None:
    if invitation.trigger == "milestone":
        return {"stage": stages.get(_transition_id(invitation.dedupe_key)) or invitation.stage}
    found = REFERENCE.search(invitation.reason or "")
    return {"complaint": found.group(0)} if found else None


def store_reason_params(apps, schema_editor):
    SurveyInvitation = apps.get_model("feedback", "SurveyInvitation")
    StageTransition = apps.get_model("finance_projects", "StageTransition")
    automatic = SurveyInvitation.objects.filter(trigger__in=["milestone", "recovery"])
    transition_ids = {
        _transition_id(key)
        for key in automatic.filter(trigger="milestone").values_list("dedupe_key", flat=True)
    } - {None}
    stages = dict(StageTransition.objects.filter(pk__in=transition_ids).values_list("pk", "stage"))
    changed = []
    for invitation in automatic.only("id", "trigger", "reason", "stage", "dedupe_key").iterator(
        chunk_size=BATCH
    ):
        params = _params(invitation, stages)
        if params is None:
            continue  # no reference to be found: the old text stays, shown as it was
        invitation.reason_params = params
        invitation.reason = ""
        changed.append(invitation)
    SurveyInvitation.objects.bulk_update(changed, ["reason_params", "reason"], batch_size=BATCH)


def restore_reasons(apps, schema_editor):
    """Back to a sentence before the parameters go: in English, as the code before this wrote no
    one language for everybody either."""
    SurveyInvitation = apps.get_model("feedback", "SurveyInvitation")
    changed = []
    for invitation in SurveyInvitation.objects.filter(reason="").exclude(reason_params={}).iterator(
        chunk_size=BATCH
    ):
        params = invitation.reason_params or {}
        if params.get("stage"):
            invitation.reason = f"The project entered the stage “{params['stage']}”."
        elif params.get("complaint"):
            invitation.reason = f"Recovery survey after complaint {params['complaint']}"
        else:
            continue
        changed.append(invitation)
    SurveyInvitation.objects.bulk_update(changed, ["reason"], batch_size=BATCH)


class Migration(migrations.Migration):
    dependencies = [("feedback", "0005_contact_request_option")]

    operations = [
        migrations.AddField(
            model_name="surveyinvitation",
            name="reason_params",
            field=models.JSONField(blank=True, default=dict, verbose_name="reason parameters"),
        ),
        migrations.RunPython(store_reason_params, restore_reasons),
    ]
