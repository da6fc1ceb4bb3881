"""Marks the shipped relationship survey's "yes, please contact me" option as the contact request.

The complaints app raises a complaint from the answer flagged this way; it used to look for the
value "contact_me", which the shipped survey never had, so those requests were dropped. Options
with that value (a survey written for the old rule) are flagged too. Surveys whose option was
relabelled in the admin are left alone: the flag is added there by hand.
"""

from django.db import migrations, models
from django.db.models import Q
from django.utils import timezone

FLAG = "contact_request"
SHIPPED_OPTION = "yes|是的，请联系我|Yes, please contact me"
LEGACY_VALUE = "contact_me"


def _flagged(choices: str) -> str:
    lines = []
    for line in choices.splitlines():
        parts = [part.strip() for part in line.split("|")]
        requests_contact = "|".join(parts[:3]) == SHIPPED_OPTION or parts[0] == LEGACY_VALUE
        if requests_contact and FLAG not in parts[3:]:
            line = f"{line.rstrip()}|{FLAG}"
        lines.append(line)
    return "\n".join(lines)


def flag_contact_request(apps, schema_editor):
    Question = apps.get_model("feedback", "Question")
    Survey = apps.get_model("feedback", "Survey")
    changed = []
    candidates = Question.objects.filter(
        Q(choices__contains=SHIPPED_OPTION) | Q(choices__contains=LEGACY_VALUE), type="choice"
    )
    for question in candidates:
        flagged = _flagged(question.choices)
        if flagged != question.choices:
            question.choices = flagged
            changed.append(question)
    Question.objects.bulk_update(changed, ["choices"])
    # Web processes cache questions per survey version: move the version of every survey changed.
    Survey.objects.filter(pk__in={q.survey_id for q in changed}).update(updated_at=timezone.now())


class Migration(migrations.Migration):
    dependencies = [("feedback", "0004_invitation_answer_updates_in_place")]

    operations = [
        migrations.AlterField(
            model_name="question",
            name="choices",
            field=models.TextField(
                blank=True,
                help_text=(
                    "One per line: value|中文|English. Add |contact_request to the option by which the "
                    "client asks the relationship manager to get in touch."
                ),
                verbose_name="options",
            ),
        ),
        migrations.RunPython(flag_contact_request, migrations.RunPython.noop),
    ]
