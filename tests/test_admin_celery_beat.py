"""The beat's schedules in the back office (django-celery-beat's admin pages) take only what the
beat can run: a clocked time or a task's start or expiry in the years the product covers (year 1
typed in Asia/Shanghai gave a 500), positional arguments as a JSON list and keyword arguments and
message headers as JSON objects (`[1]` as keyword arguments was saved, then broke the beat), an
interval the beat can count. A bad value is refused on its field with nothing saved; a good one
is saved and read by the beat. The change lists refuse a date drill-down into the year 1 or 9999,
as the project's own, and so do django-axes' login records."""

from datetime import UTC, datetime

import pytest
from django.contrib import admin
from django.urls import reverse
from django_celery_beat.models import (
    ClockedSchedule,
    CrontabSchedule,
    IntervalSchedule,
    PeriodicTask,
    SolarSchedule,
)
from django_celery_beat.schedulers import ModelEntry

from cem.admin import DateRangeAdminMixin
from cem.celery import app

pytestmark = pytest.mark.django_db

INVALID_MOMENT = "Choose a date between 2000-01-01 and 2099-12-31."
NOT_A_LIST = 'Enter the positional arguments as a JSON list, such as ["arg1", "arg2"].'
NOT_AN_OBJECT = 'Enter the keyword arguments as a JSON object, such as {"argument": "value"}.'
HEADERS_NOT_AN_OBJECT = 'Enter the message headers as a JSON object, such as {"header": "value"}.'
TOO_LONG_AN_INTERVAL = "Choose an interval of at most 36524 days."

FAR_OUT = [
    pytest.param("Asia/Shanghai", ("0001-01-01", "00:00:00"), id="year-1-in-shanghai"),
    pytest.param("America/New_York", ("9999-12-31", "23:59:00"), id="year-9999-in-new-york"),
    pytest.param("Asia/Shanghai", ("1999-12-31", "08:00:00"), id="before-2000"),
]
# The inline listing the tasks that use a schedule, as the browser posts it (it adds none).
NO_TASKS = {"periodictask_set-TOTAL_FORMS": 0, "periodictask_set-INITIAL_FORMS": 0}


@pytest.fixture
def staff(client, admin_user):
    """`staff(zone)`: the test client logged in as the superuser, who lives in `zone`."""

    def login(zone="Asia/Shanghai"):
        admin_user.time_zone = zone
        admin_user.language = "en"
        admin_user.save()
        client.force_login(admin_user)
        client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
        return client

    return login


@pytest.fixture
def every_hour():
    return IntervalSchedule.objects.create(every=1, period=IntervalSchedule.HOURS)


def errors_of(response):
    return response.context["adminform"].form.errors


def task_form(interval, **changes):
    return {
        "name": "Nightly check",
        "task": "cem.tasks.nightly_check",
        "interval": interval.pk,
        "enabled": "on",
        "args": "[]",
        "kwargs": "{}",
        "headers": "{}",
        "description": "",
        **changes,
    }


def add_task(client, interval, **changes):
    return client.post(reverse("admin:django_celery_beat_periodictask_add"), task_form(interval, **changes))


def split(name, moment):
    day, time = moment
    return {f"{name}_0": day, f"{name}_1": time}


# --- clocked schedules ----------------------------------------------------------------------


@pytest.mark.parametrize(("zone", "moment"), FAR_OUT)
def test_a_clocked_time_outside_the_product_years_is_refused_on_its_field_and_not_saved(staff, zone, moment):
    before = ClockedSchedule.objects.count()

    response = staff(zone).post(
        reverse("admin:django_celery_beat_clockedschedule_add"), {**split("clocked_time", moment), **NO_TASKS}
    )

    assert response.status_code == 200
    assert errors_of(response) == {"clocked_time": [INVALID_MOMENT]}
    assert ClockedSchedule.objects.count() == before


def test_a_clocked_time_within_the_product_years_is_saved_in_the_staff_members_zone(staff):
    response = staff("Asia/Shanghai").post(
        reverse("admin:django_celery_beat_clockedschedule_add"),
        {**split("clocked_time", ("2026-03-01", "09:30:00")), **NO_TASKS},
    )

    assert response.status_code == 302
    assert ClockedSchedule.objects.get().clocked_time == datetime(2026, 3, 1, 1, 30, tzinfo=UTC)


# --- periodic tasks: arguments, headers, dates ----------------------------------------------


@pytest.mark.parametrize("kwargs", ["[1]", '"text"', "1", "null", "{not json", '[{"a": 1}]'])
def test_keyword_arguments_that_are_not_a_json_object_are_refused_and_the_task_is_not_saved(
    staff, every_hour, kwargs
):
    response = add_task(staff(), every_hour, kwargs=kwargs)

    assert response.status_code == 200
    assert errors_of(response) == {"kwargs": [NOT_AN_OBJECT]}
    assert not PeriodicTask.objects.filter(name="Nightly check").exists()


@pytest.mark.parametrize("args", ['{"a": 1}', '"text"', "1", "null", "[1,"])
def test_positional_arguments_that_are_not_a_json_list_are_refused_and_the_task_is_not_saved(
    staff, every_hour, args
):
    response = add_task(staff(), every_hour, args=args)

    assert response.status_code == 200
    assert errors_of(response) == {"args": [NOT_A_LIST]}
    assert not PeriodicTask.objects.filter(name="Nightly check").exists()


@pytest.mark.parametrize("headers", ["[1]", '"text"', "{"])
def test_message_headers_that_are_not_a_json_object_are_refused_and_the_task_is_not_saved(
    staff, every_hour, headers
):
    response = add_task(staff(), every_hour, headers=headers)

    assert response.status_code == 200
    assert errors_of(response) == {"headers": [HEADERS_NOT_AN_OBJECT]}
    assert not PeriodicTask.objects.filter(name="Nightly check").exists()


def test_a_bad_change_leaves_the_saved_task_as_it_was(staff, every_hour):
    task = PeriodicTask.objects.create(
        name="Nightly check", task="cem.tasks.nightly_check", interval=every_hour
    )

    response = staff().post(
        reverse("admin:django_celery_beat_periodictask_change", args=[task.pk]),
        task_form(every_hour, kwargs="[1]", args='{"a": 1}'),
    )

    assert response.status_code == 200
    assert errors_of(response) == {"args": [NOT_A_LIST], "kwargs": [NOT_AN_OBJECT]}
    task.refresh_from_db()
    assert (task.args, task.kwargs) == ("[]", "{}")


@pytest.mark.parametrize("field", ["start_time", "expires"])
@pytest.mark.parametrize(("zone", "moment"), FAR_OUT)
def test_a_task_start_or_expiry_outside_the_product_years_is_refused_on_its_field(
    staff, every_hour, field, zone, moment
):
    response = add_task(staff(zone), every_hour, **split(field, moment))

    assert response.status_code == 200
    assert errors_of(response) == {field: [INVALID_MOMENT]}
    assert not PeriodicTask.objects.filter(name="Nightly check").exists()


def test_an_expiry_longer_than_the_product_years_is_refused(staff, every_hour):
    response = add_task(staff(), every_hour, expire_seconds=str(10**15))

    # Refused as too long, or as too large for the database's integer where that is smaller.
    assert response.status_code == 200
    assert list(errors_of(response)) == ["expire_seconds"]
    assert not PeriodicTask.objects.filter(name="Nightly check").exists()


def test_a_task_with_a_list_an_object_and_a_start_is_saved_and_the_beat_reads_it(staff, every_hour):
    response = add_task(
        staff("Asia/Shanghai"),
        every_hour,
        args='["weekly", 2]',
        kwargs='{"team": "east", "dry_run": false}',
        headers='{"origin": "admin"}',
        **split("start_time", ("2026-03-01", "08:00:00")),
    )

    assert response.status_code == 302
    task = PeriodicTask.objects.get(name="Nightly check")
    assert task.start_time == datetime(2026, 3, 1, 0, 0, tzinfo=UTC)
    entry = ModelEntry(task, app=app)
    assert entry.args == ["weekly", 2]
    assert entry.kwargs == {"team": "east", "dry_run": False}
    assert entry.options["headers"]["origin"] == "admin"


def test_empty_argument_and_header_boxes_are_saved_as_none(staff, every_hour):
    response = add_task(staff(), every_hour, args="", kwargs=" ", headers="")

    assert response.status_code == 302
    task = PeriodicTask.objects.get(name="Nightly check")
    assert (task.args, task.kwargs, task.headers) == ("[]", "{}", "{}")
    entry = ModelEntry(task, app=app)
    assert (entry.args, entry.kwargs) == ([], {})


# --- intervals ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("every", "period"), [("36525", "days"), ("900000", "hours"), ("60000000", "minutes")]
)
def test_an_interval_longer_than_the_product_years_is_refused_and_not_saved(staff, every, period):
    before = IntervalSchedule.objects.count()

    response = staff().post(
        reverse("admin:django_celery_beat_intervalschedule_add"),
        {"every": every, "period": period, **NO_TASKS},
    )

    assert response.status_code == 200
    assert errors_of(response) == {"every": [TOO_LONG_AN_INTERVAL]}
    assert IntervalSchedule.objects.count() == before


@pytest.mark.parametrize(
    ("every", "period"), [("100000000000", "days"), (str(10**18), "microseconds"), (str(2**62), "seconds")]
)
def test_an_interval_past_what_the_beat_can_count_is_refused_and_not_saved(staff, every, period):
    # Refused as too long, or as too large for the database's integer where that is smaller.
    before = IntervalSchedule.objects.count()

    response = staff().post(
        reverse("admin:django_celery_beat_intervalschedule_add"),
        {"every": every, "period": period, **NO_TASKS},
    )

    assert response.status_code == 200
    assert list(errors_of(response)) == ["every"]
    assert IntervalSchedule.objects.count() == before


def test_an_ordinary_interval_is_saved(staff):
    response = staff().post(
        reverse("admin:django_celery_beat_intervalschedule_add"),
        {"every": "36524", "period": "days", **NO_TASKS},
    )

    assert response.status_code == 302
    assert IntervalSchedule.objects.filter(every=36524, period="days").exists()


# --- change lists and the admins themselves -------------------------------------------------


@pytest.mark.parametrize(
    ("changelist", "field"),
    [
        ("django_celery_beat_periodictask", "start_time"),
        ("axes_accessattempt", "attempt_time"),
        ("axes_accesslog", "attempt_time"),
        ("axes_accessfailurelog", "attempt_time"),
    ],
)
@pytest.mark.parametrize("year", ["1", "9999"])
def test_a_date_drill_down_to_the_ends_of_the_calendar_is_a_bad_parameter(staff, changelist, field, year):
    response = staff().get(reverse(f"admin:{changelist}_changelist"), {f"{field}__year": year})

    assert response.status_code == 302
    assert response["Location"].endswith("?e=1")


@pytest.mark.parametrize(
    "model", [PeriodicTask, IntervalSchedule, ClockedSchedule, CrontabSchedule, SolarSchedule]
)
def test_every_beat_page_opens(staff, every_hour, model):
    PeriodicTask.objects.create(name="Nightly check", task="cem.tasks.nightly_check", interval=every_hour)
    name = f"admin:django_celery_beat_{model._meta.model_name}"
    client = staff()

    assert client.get(reverse(f"{name}_changelist")).status_code == 200
    assert client.get(reverse(f"{name}_add")).status_code == 200


def test_every_package_admin_reads_dates_through_the_range_checking_fields():
    packages = {"django_celery_beat", "axes"}
    package_admins = [
        model_admin
        for model, model_admin in admin.site._registry.items()
        if model._meta.app_label in packages
    ]

    assert len(package_admins) == 8
    assert [type(a).__name__ for a in package_admins if type(a).__mro__[1] is not DateRangeAdminMixin] == []
