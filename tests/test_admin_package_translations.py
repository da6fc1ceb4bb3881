"""The installed packages' admin sections read in Chinese: django-axes ships no Chinese catalogue
and django-celery-beat's lacks some strings (and misreads others), so the login-lockout and beat
pages mixed English into the Chinese admin. The project's catalogue, which takes precedence over
theirs, carries the missing Chinese (cem/third_party_messages.py), and the columns the packages
labelled with untranslatable method names have translated headers."""

from datetime import timedelta

import pytest
from axes.models import AccessAttempt, AccessLog
from django.urls import reverse
from django.utils import timezone
from django_celery_beat.models import IntervalSchedule, PeriodicTask

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_zh(client, admin_user):
    admin_user.language = "zh-hans"
    admin_user.save()
    client.force_login(admin_user)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "zh-hans"
    return client


def access_attempt(**fields) -> AccessAttempt:
    """A failed login as axes records it."""
    return AccessAttempt.objects.create(
        user_agent="Mozilla/5.0",
        http_accept="text/html",
        path_info="/accounts/login/",
        get_data="",
        **fields,
    )


@pytest.fixture
def attempt():
    return access_attempt(
        ip_address="10.0.0.8", username="rm.wang", post_data="username=rm.wang", failures_since_start=2
    )


@pytest.fixture
def task():
    every_hour = IntervalSchedule.objects.create(every=1, period=IntervalSchedule.HOURS)
    return PeriodicTask.objects.create(
        name="Nightly check", task="cem.tasks.nightly_check", interval=every_hour
    )


def page(client, name, *args):
    response = client.get(reverse(name, args=args))
    assert response.status_code == 200
    return response.content.decode()


def test_the_admin_index_names_the_login_lockout_section_and_models_in_chinese(staff_zh):
    html = page(staff_zh, "admin:index")

    for chinese in ["登录安全", "访问尝试", "访问日志", "访问失败记录", "太阳事件"]:
        assert chinese in html, chinese
    for english in [">Axes<", "Access attempts", "Access logs", "Access failures", "日程事件"]:
        assert english not in html, english


def test_the_access_attempt_list_has_chinese_columns_filters_and_actions(staff_zh, attempt):
    html = page(staff_zh, "admin:axes_accessattempt_changelist")

    for chinese in ["尝试时间", "IP 地址", "用户代理", "路径", "登录失败次数", "状态", "还可尝试 3 次"]:
        assert chinese in html, chinese
    assert "已锁定" in html  # the filter's title
    assert "清理已过期的访问尝试" in html  # the action
    for english in [
        "Attempt Time",
        "IP Address",
        "User Agent",
        "Failed Logins",
        "Attempt Remaining",
        "Locked Out",
    ]:
        assert english not in html, english


def test_the_access_attempt_page_has_chinese_sections_and_labels(staff_zh, attempt):
    html = page(staff_zh, "admin:axes_accessattempt_change", attempt.pk)

    for chinese in ["表单数据", "元数据", "GET 数据", "POST 数据", "访问尝试有效期", "HTTP Accept 请求头"]:
        assert chinese in html, chinese
    for english in ["Form Data", "Meta Data", "GET Data", "Access attempt expiration"]:
        assert english not in html, english


def test_the_access_log_list_names_the_logout_time_in_chinese(staff_zh):
    AccessLog.objects.create(
        user_agent="Mozilla/5.0", ip_address="10.0.0.8", username="rm.wang", http_accept="*/*", path_info="/"
    )

    html = page(staff_zh, "admin:axes_accesslog_changelist")

    assert "退出时间" in html
    assert "Logout Time" not in html


def test_the_periodic_task_pages_have_chinese_sections_columns_and_filters(staff_zh, task):
    listing = page(staff_zh, "admin:django_celery_beat_periodictask_changelist")
    form = page(staff_zh, "admin:django_celery_beat_periodictask_change", task.pk)

    assert "任务名称" in listing and "Task Name" not in listing  # the filter by task
    assert "执行计划" in listing and ">Scheduler<" not in listing  # the schedule column
    assert "参数" in form and ">Arguments<" not in form
    assert "执行选项" in form and "Execution Options" not in form


def test_the_schedule_pages_have_chinese_help_texts_choices_and_headings(staff_zh, task):
    crontab = page(staff_zh, "admin:django_celery_beat_crontabschedule_add")
    interval = page(staff_zh, "admin:django_celery_beat_intervalschedule_change", task.interval_id)

    assert "计划执行的月份（1-12）" in crontab and "Cron Months" not in crontab
    assert "计划执行的星期几" in crontab and "Cron Days Of The Week" not in crontab
    assert "微秒" in interval and "毫秒" not in interval  # microseconds, not milliseconds
    assert "使用此计划的周期性任务" in interval and "Periodic Tasks Using This Schedule" not in interval
    assert "任务名称" in interval and "Task Name" not in interval  # the tasks' column


def test_the_enable_action_reports_in_chinese(staff_zh, task):
    response = staff_zh.post(
        reverse("admin:django_celery_beat_periodictask_changelist"),
        {"action": "enable_tasks", "_selected_action": [task.pk]},
        follow=True,
    )

    assert "已成功启用 1 个任务" in response.content.decode()


def test_the_clean_up_action_removes_expired_attempts_and_reports_in_chinese(staff_zh, attempt):
    expired = access_attempt(ip_address="10.0.0.9", username="rm.li", post_data="", failures_since_start=1)
    AccessAttempt.objects.filter(pk=expired.pk).update(attempt_time=timezone.now() - timedelta(days=1))

    response = staff_zh.post(
        reverse("admin:axes_accessattempt_changelist"),
        {"action": "cleanup_expired_attempts", "_selected_action": [attempt.pk]},
        follow=True,
    )

    assert response.status_code == 200
    assert "已清理 1 条已过期的访问尝试。" in response.content.decode()
    assert list(AccessAttempt.objects.all()) == [attempt]


def test_a_refused_keyword_argument_is_explained_in_chinese(staff_zh, task):
    response = staff_zh.post(
        reverse("admin:django_celery_beat_periodictask_change", args=[task.pk]),
        {
            "name": task.name,
            "task": task.task,
            "interval": task.interval_id,
            "enabled": "on",
            "args": "[]",
            "kwargs": "[1]",
            "headers": "{}",
        },
    )

    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {
        "kwargs": ['请以 JSON 对象填写关键字参数，例如 {"argument": "value"}。']
    }
