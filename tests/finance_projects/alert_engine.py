"""Driving the set-based alert engine directly, with one candidate."""

from finance_projects import alerts


def sync_project_alert(project, severity, at):
    """A scan whose only candidate is the project, at `severity` (a `stage_overrun` alert)."""
    return alerts.sync_alerts(
        kind="stage_overrun",
        subject_type="project",
        candidates_sql=(
            "SELECT p.id AS project_id, p.id AS subject_id, %s AS severity, p.code AS message, "
            "p.relationship_manager_id AS assignee_id "
            "FROM finance_projects_financingproject p WHERE p.id = %s"
        ),
        params=[severity, project.pk],
        at=at,
    )
