"""A survey due but not sent because its survey has no questions is recorded as a skip with
that reason, like one held back for want of an active survey.

Only the field's choices change; the database column stays as it is.
"""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('feedback', '0007_survey_skip_outlives_its_survey'),
    ]

    operations = [
        migrations.AlterField(
            model_name='surveyskip',
            name='reason',
            field=models.CharField(choices=[('opted_out', 'Contact opted out of surveys'), ('frequency_cap', 'Contact was surveyed recently'), ('no_email', 'Contact has no email address'), ('survey_missing', 'No active survey of this kind'), ('survey_empty', 'Survey has no questions'), ('project_inactive', 'Project is not active')], max_length=20, verbose_name='reason'),
        ),
    ]
