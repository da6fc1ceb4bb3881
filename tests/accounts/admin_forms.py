"""What the admin's user change form sends, for tests that post it."""


def change_form_data(user, **changes):
    return {
        "username": user.username,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
        "is_active": "on",
        "date_joined_0": "2024-01-02",
        "date_joined_1": "09:00:00",
        "role": user.role,
        "department": user.department,
        "team": user.team_id or "",
        "language": user.language,
        "time_zone": user.time_zone,
        **changes,
    }
