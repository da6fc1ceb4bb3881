"""Far-out dates typed in the admin are bad input, not a server error. The admin reads a date-time
from two boxes (date, time) in the staff member's zone: `0001-01-01 00:00` typed in Asia/Shanghai
is before the year 1 in UTC, so SQLite's adapter raised OverflowError storing it (a 500), and
`9999-12-31 15:00` typed in New York could be stored but then broke every page showing it to a
reader east of Greenwich. Every admin form refuses such a value, as any moment outside 2000–2099,
next to the field with the site's translated "Choose a date between 2000-01-01 and 2099-12-31.",
and nothing is saved; the admin's calendar and clock widgets stay as they were."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from django.contrib import admin
from django.contrib.admin import widgets
from django.core.exceptions import ValidationError
from django.db import models
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone, translation

from cem import form_fields
from complaints.models import RecoveryAction
from finance_projects.models import Commitment, Touchpoint
from tests.factories import RecoveryActionFactory

pytestmark = pytest.mark.django_db

INVALID_MOMENT = "Choose a date between 2000-01-01 and 2099-12-31."
OUR_APPS = {"accounts", "finance_projects", "feedback", "complaints", "dashboard", "digests"}

YEAR_1_IN_SHANGHAI = pytest.param("Asia/Shanghai", ("0001-01-01", "00:00:00"), id="year-1-in-shanghai")
YEAR_1_IN_NEW_YORK = pytest.param(
    "America/New_York", ("0001-01-01", "00:00:00"), id="year-1-unshowable-further-west"
)
LAST_MINUTE_IN_NEW_YORK = pytest.param(
    "America/New_York", ("9999-12-31", "23:59:00"), id="year-9999-in-new-york"
)
UNSHOWABLE_EAST = pytest.param(
    "America/New_York", ("9999-12-31", "15:00:00"), id="year-9999-unshowable-further-east"
)
FAR_OUT = [YEAR_1_IN_SHANGHAI, YEAR_1_IN_NEW_YORK, LAST_MINUTE_IN_NEW_YORK, UNSHOWABLE_EAST]


@pytest.fixture
def staff(client, admin_user):
    """`staff(zone)`: the test client logged in as the superuser, who lives in `zone`."""

    def login(zone, language="en"):
        admin_user.time_zone = zone
        admin_user.language = language
        admin_user.save()
        client.force_login(admin_user)
        return client

    return login


def split(name, moment):
    """The admin's two boxes for one date-time field."""
    day, time = moment
    return {f"{name}_0": day, f"{name}_1": time}


def post(client, url, data, language="en"):
    return client.post(url, data, HTTP_ACCEPT_LANGUAGE=language)


def touchpoint_data(project, contact, moment):
    return {
        "project": project.pk,
        "contact": contact.pk,
        "channel": "call",
        **split("occurred_at", moment),
        "summary": "Update call.",
        "is_client_update": "on",
    }


def errors_of(response):
    return response.context["adminform"].form.errors


# --- the reported case and its neighbours -------------------------------------------------


@pytest.mark.parametrize(("zone", "moment"), FAR_OUT)
def test_a_far_out_touchpoint_time_is_refused_on_the_field_and_nothing_is_logged(
    staff, project, contact, zone, moment
):
    response = post(
        staff(zone),
        reverse("admin:finance_projects_touchpoint_add"),
        touchpoint_data(project, contact, moment),
    )

    assert response.status_code == 200
    assert errors_of(response) == {"occurred_at": [INVALID_MOMENT]}
    assert not Touchpoint.objects.exists()


def test_an_ordinary_touchpoint_time_is_still_logged_in_the_staff_members_zone(staff, project, contact):
    response = post(
        staff("Asia/Shanghai"),
        reverse("admin:finance_projects_touchpoint_add"),
        touchpoint_data(project, contact, ("2025-03-01", "08:30:00")),
    )

    assert response.status_code == 302
    assert Touchpoint.objects.get().occurred_at == datetime(2025, 3, 1, 0, 30, tzinfo=UTC)


@pytest.mark.parametrize(("zone", "moment"), FAR_OUT)
def test_a_far_out_commitment_due_date_is_refused_on_the_field_and_nothing_is_promised(
    staff, project, owner, zone, moment
):
    response = post(
        staff(zone),
        reverse("admin:finance_projects_commitment_add"),
        {
            "project": project.pk,
            "title": "Term sheet",
            "kind": "document",
            "owner": owner.pk,
            "department": "",
            **split("due_at", moment),
        },
    )

    assert response.status_code == 200
    assert errors_of(response) == {"due_at": [INVALID_MOMENT]}
    assert not Commitment.objects.exists()


@pytest.mark.parametrize(("zone", "moment"), FAR_OUT)
def test_a_far_out_recovery_action_due_date_is_refused_on_its_change_page_and_the_action_keeps_its_date(
    staff, owner, project, zone, moment
):
    action = RecoveryActionFactory(complaint__project=project, owner=owner)
    due_at = action.due_at

    response = post(
        staff(zone),
        reverse("admin:complaints_recoveryaction_change", args=[action.pk]),
        {
            "complaint": action.complaint_id,
            "kind": "apology",
            "description": "Call the CFO.",
            "owner": owner.pk,
            **split("due_at", moment),
            **split("done_at", ("", "")),
            "created_by": "",
            **split("created_at", ("2025-03-01", "09:00:00")),
        },
    )

    assert response.status_code == 200
    assert errors_of(response) == {"due_at": [INVALID_MOMENT]}
    assert RecoveryAction.objects.get().due_at == due_at


@pytest.mark.parametrize(("zone", "moment"), [YEAR_1_IN_SHANGHAI, UNSHOWABLE_EAST])
def test_a_far_out_last_login_is_refused_on_the_users_change_page(staff, owner, zone, moment):
    response = post(
        staff(zone),
        reverse("admin:accounts_user_change", args=[owner.pk]),
        {
            "username": owner.username,
            "first_name": owner.first_name,
            "last_name": owner.last_name,
            "email": owner.email,
            "is_active": "on",
            **split("last_login", moment),
            **split("date_joined", ("2024-01-02", "09:00:00")),
            "role": owner.role,
            "department": owner.department,
            "team": owner.team_id,
            "language": owner.language,
            "time_zone": owner.time_zone,
        },
    )

    assert response.status_code == 200
    assert errors_of(response) == {"last_login": [INVALID_MOMENT]}
    owner.refresh_from_db()
    assert owner.last_login is None


def test_the_refusal_is_in_the_staff_members_language(staff, project, contact):
    response = post(
        staff("Asia/Shanghai", language="zh-hans"),
        reverse("admin:finance_projects_touchpoint_add"),
        touchpoint_data(project, contact, ("0001-01-01", "00:00:00")),
        language="zh-hans",
    )

    assert response.status_code == 200
    assert errors_of(response) == {"occurred_at": ["请选择 2000-01-01 至 2099-12-31 之间的日期。"]}


def test_the_admin_still_shows_its_calendar_and_clock_boxes(staff):
    response = staff("Asia/Shanghai").get(reverse("admin:finance_projects_touchpoint_add"))

    html = response.content.decode()
    assert response.status_code == 200
    assert 'name="occurred_at_0"' in html and 'class="vDateField"' in html
    assert 'name="occurred_at_1"' in html and 'class="vTimeField"' in html


# --- every admin form, present and future -------------------------------------------------


def our_admins(request):
    """Every ModelAdmin registered for one of our apps, and every inline it shows `request`'s user."""
    for model, model_admin in admin.site._registry.items():
        if model._meta.app_label not in OUR_APPS:
            continue
        yield model, model_admin
        for inline in model_admin.get_inline_instances(request):
            yield inline.model, inline


def date_fields_of(model):
    return [
        field
        for field in model._meta.concrete_fields
        if isinstance(field, models.DateField) and field.editable and not field.choices
    ]


def test_every_date_time_and_date_of_every_admin_form_is_read_through_the_range_checking_fields(
    admin_user,
):
    request = RequestFactory().get("/admin/")
    request.user = admin_user
    seen = 0

    for model, model_admin in our_admins(request):
        for db_field in date_fields_of(model):
            formfield = model_admin.formfield_for_dbfield(db_field, request)
            where = f"{type(model_admin).__name__}.{db_field.name}"
            if isinstance(db_field, models.DateTimeField):
                assert isinstance(formfield, form_fields.SplitDateTimeField), where
                assert isinstance(formfield.widget, widgets.AdminSplitDateTime), where
            else:
                assert isinstance(formfield, form_fields.DateField), where
                assert isinstance(formfield.widget, widgets.AdminDateWidget), where
            seen += 1

    assert seen > 50  # the walk found the admins (a vacuous pass would prove nothing)


@pytest.mark.parametrize(
    ("zone", "parts"),
    [
        pytest.param("Asia/Shanghai", ["0001-01-01", "00:00:00"], id="year-1-in-shanghai"),
        pytest.param("America/New_York", ["9999-12-31", "15:00:00"], id="year-9999-in-new-york"),
    ],
)
def test_the_split_field_refuses_parts_that_read_as_a_far_out_moment_in_the_current_zone(zone, parts):
    field = form_fields.SplitDateTimeField()

    with timezone.override(zone), translation.override("en"):
        with pytest.raises(ValidationError) as refused:
            field.clean(parts)
        assert refused.value.messages == [INVALID_MOMENT]  # lazy: read in English


def test_the_split_field_keeps_the_first_and_the_last_day_in_any_zone():
    field = form_fields.SplitDateTimeField()

    with timezone.override("Asia/Shanghai"):
        first = field.clean(["2000-01-01", "00:00:00"])
    with timezone.override("America/New_York"):
        last = field.clean(["2099-12-31", "23:59:59"])

    assert first == datetime(2000, 1, 1, tzinfo=ZoneInfo("Asia/Shanghai"))
    assert last == datetime(2099, 12, 31, 23, 59, 59, tzinfo=ZoneInfo("America/New_York"))
