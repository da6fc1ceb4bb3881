"""A complaint recorded as a caller's would be: through the service, by phone, about late news."""

from complaints import services


def record_by_phone(project, contact, *, description: str, by=None):
    return services.complaint_create(
        project=project,
        contact=contact,
        channel="phone",
        category="late_information",
        description=description,
        created_by=by,
    )
