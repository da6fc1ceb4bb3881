"""The admin change forms as a browser posts them, for tests that drive the back office."""

from django.urls import reverse


def project_change_form(project, **changes) -> dict:
    """The project's change form unchanged but for `changes` (its inlines are read-only)."""
    return {
        "client": project.client_id,
        "name": project.name,
        "code": project.code,
        "amount": str(project.amount),
        "currency": project.currency,
        "status": project.status,
        "relationship_manager": project.relationship_manager_id,
        "update_cadence_days": project.update_cadence_days,
        **{
            f"{prefix}-{key}": 0
            for prefix in ("transitions", "touchpoints", "commitments")
            for key in ("TOTAL_FORMS", "INITIAL_FORMS")
        },
        **changes,
    }


def post_project_change(staff, project, **changes):
    url = reverse("admin:finance_projects_financingproject_change", args=[project.pk])
    return staff.post(url, project_change_form(project, **changes))
