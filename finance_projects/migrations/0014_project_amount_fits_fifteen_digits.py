# A new or changed project amount holds 15 digits (13 whole, 2 decimal): what SQLite's
# floating-point storage keeps exactly. The column keeps its 18, so no stored row is rewritten.

import django.core.validators
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('finance_projects', '0013_note_length_limits'),
    ]

    operations = [
        migrations.AlterField(
            model_name='financingproject',
            name='amount',
            field=models.DecimalField(decimal_places=2, max_digits=18, validators=[django.core.validators.DecimalValidator(15, 2)], verbose_name='amount'),
        ),
        migrations.AlterField(
            model_name='historicalfinancingproject',
            name='amount',
            field=models.DecimalField(decimal_places=2, max_digits=18, validators=[django.core.validators.DecimalValidator(15, 2)], verbose_name='amount'),
        ),
    ]
