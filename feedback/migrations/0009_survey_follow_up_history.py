"""Every follow-up on a survey response is kept, not only the last one recorded.

Recording a second follow-up used to overwrite the first. Each now gets its own row
(`SurveyFollowUp`), and the response's follow-up columns repeat the latest. A response that
already has a follow-up gets it as the first row of its history; when it was recorded is not
known, so its `recorded_at` is the time the client was contacted. Going back drops the history:
the response's columns still hold the latest follow-up.
"""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

BATCH = 500


def carry_follow_ups_into_history(apps, schema_editor):
    """One history row per response that has a follow-up, from the response's own columns."""
    SurveyResponse = apps.get_model("feedback", "SurveyResponse")
    SurveyFollowUp = apps.get_model("feedback", "SurveyFollowUp")
    followed_up = (
        SurveyResponse.objects.filter(followed_up_at__isnull=False)
        .order_by("pk")
        .values_list("pk", "followed_up_at", "followed_up_by_id", "follow_up_outcome")
    )
    rows = []
    for response_id, contacted_at, by_id, outcome in followed_up.iterator(chunk_size=BATCH):
        rows.append(
            SurveyFollowUp(
                response_id=response_id,
                contacted_at=contacted_at,
                by_id=by_id,
                outcome=outcome,
                recorded_at=contacted_at,
            )
        )
        if len(rows) >= BATCH:
            SurveyFollowUp.objects.bulk_create(rows)
            rows = []
    SurveyFollowUp.objects.bulk_create(rows)


class Migration(migrations.Migration):
    dependencies = [
        ("feedback", "0008_skip_reason_survey_empty"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="SurveyFollowUp",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("contacted_at", models.DateTimeField(verbose_name="client contacted at")),
                ("outcome", models.TextField(verbose_name="outcome of the follow-up")),
                (
                    "recorded_at",
                    models.DateTimeField(default=django.utils.timezone.now, verbose_name="recorded at"),
                ),
                (
                    "by",
                    models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="contacted by",
                    ),
                ),
                (
                    "response",
                    models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="follow_ups",
                        to="feedback.surveyresponse",
                        verbose_name="survey response",
                    ),
                ),
            ],
            options={
                "verbose_name": "survey follow-up",
                "verbose_name_plural": "survey follow-ups",
                "ordering": ["-contacted_at", "-id"],
                "indexes": [
                    models.Index(fields=["response", "-contacted_at"], name="followup_response_recent"),
                    models.Index(
                        condition=models.Q(("by__isnull", False)), fields=["by"], name="followup_by"
                    ),
                ],
            },
        ),
        migrations.RunPython(carry_follow_ups_into_history, migrations.RunPython.noop),
    ]
