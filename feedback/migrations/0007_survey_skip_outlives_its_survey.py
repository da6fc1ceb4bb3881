"""A skip outlives its survey: deleting a survey nobody was sent empties the skips' survey
instead of deleting them, so every survey that was not sent stays recorded with its reason.

Only Django's on-delete rule changes; the database column and constraint stay as they are.
"""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('feedback', '0006_invitation_reason_params'),
    ]

    operations = [
        migrations.AlterField(
            model_name='surveyskip',
            name='survey',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='feedback.survey', verbose_name='survey'),
        ),
    ]
