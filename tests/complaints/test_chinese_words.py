"""Words that must not be confused in Chinese: a complaint received is not yet acknowledged, and
an open complaint is not an unfulfilled commitment."""

import pytest
from django.urls import reverse
from django.utils import translation

pytestmark = pytest.mark.django_db


@pytest.fixture
def chinese_reader(client, manager):
    manager.language = "zh-hans"
    manager.save()
    client.force_login(manager)
    with translation.override("zh-hans"):
        yield client


def test_a_new_complaint_reads_received_not_acknowledged(chinese_reader, complaint):
    page = chinese_reader.get(
        reverse("complaints:detail", args=[complaint.pk]), HTTP_ACCEPT_LANGUAGE="zh-hans"
    ).content.decode()

    assert "已收到" in page
    assert "已受理" not in page.replace('<option value="acknowledged">已受理</option>', "")


def test_the_open_filter_reads_open_complaints_not_unfulfilled(chinese_reader, complaint):
    page = chinese_reader.get(reverse("complaints:list"), HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()

    assert '<option value="open">未结</option>' in page
    assert ">未兑现<" not in page  # the commitment word ("承诺未兑现" is a category)


def test_an_open_commitment_still_reads_unfulfilled():
    from finance_projects.models import CommitmentStatus

    with translation.override("zh-hans"):
        assert str(CommitmentStatus.OPEN.label) == "未兑现"
