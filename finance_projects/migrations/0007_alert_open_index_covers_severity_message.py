from django.db import migrations, models

# On PostgreSQL the unique index behind `one_open_alert_per_subject` also carries severity and
# message, so a scan's no-change check reads the open alerts from the index alone. Django's own
# covering constraint would not be created at all on SQLite, losing the uniqueness there; the
# model keeps the plain constraint and this swaps the index under it, with the same name and
# the same rule. The message is bounded first, so that an index row can always hold it.
TABLE = "finance_projects_alert"
NAME = "one_open_alert_per_subject"
KEY = "(kind, subject_type, subject_id)"
WHERE = "WHERE resolved_at IS NULL"


def _replace(schema_editor, include: str) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"DROP INDEX IF EXISTS {NAME}")
    schema_editor.execute(f"CREATE UNIQUE INDEX {NAME} ON {TABLE} {KEY} {include} {WHERE}")


def shorten_long_messages(apps, schema_editor):
    for table in (TABLE, "finance_projects_historicalalert"):
        schema_editor.execute(f"UPDATE {table} SET message = substr(message, 1, 500) WHERE length(message) > 500")


def cover(apps, schema_editor):
    _replace(schema_editor, "INCLUDE (severity, message)")


def uncover(apps, schema_editor):
    _replace(schema_editor, "")


class Migration(migrations.Migration):
    dependencies = [
        ("finance_projects", "0006_project_update_alert_severity"),
    ]

    operations = [
        migrations.RunPython(shorten_long_messages, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="alert",
            name="message",
            field=models.CharField(max_length=500, verbose_name="message"),
        ),
        migrations.AlterField(
            model_name="historicalalert",
            name="message",
            field=models.CharField(max_length=500, verbose_name="message"),
        ),
        migrations.RunPython(cover, uncover),
    ]
