"""Editing a published case in the admin is held to the rule it was published under: a text that
still names the client or a contact, or gives their email address, is refused on its field and
nothing is saved; a clean edit is saved."""

import pytest
from django.urls import reverse

from complaints import services
from complaints.models import CaseStudy

pytestmark = pytest.mark.django_db


@pytest.fixture
def case(resolved, manager):
    return services.case_publish(
        complaint=resolved,
        by=manager,
        title_zh="放款审批无消息",
        title_en="No word on the drawdown approval",
        lessons_zh="每周告知进度。",
        lessons_en="Tell the client every week.",
        summary_zh="客户两周未获放款审批消息。",
        summary_en="The client heard nothing about the approval for two weeks.",
    )


@pytest.fixture
def change_case(client, admin_user, case):
    """Post the case's admin change form with some fields changed."""
    client.force_login(admin_user)
    url = reverse("admin:complaints_casestudy_change", args=[case.pk])
    form = client.get(url).context["adminform"].form
    data = {name: form[name].value() for name in form.fields if form[name].value() is not None}

    def post(**changes):
        return client.post(url, {**data, **changes}, HTTP_ACCEPT_LANGUAGE="en")

    return post


def _texts(case):
    case.refresh_from_db()
    return {name: getattr(case, name) for name in ("summary_en", "lessons_zh", "title_en")}


def test_a_summary_naming_the_client_is_refused_on_its_field_and_nothing_is_saved(case, change_case):
    before = _texts(case)

    response = change_case(
        summary_en="Huaneng Renewables heard nothing for two weeks.", title_en="Approval silence"
    )

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert list(errors) == ["summary_en"]
    assert "identifies the client or a person: Huaneng Renewables" in errors["summary_en"][0]
    assert _texts(case) == before


def test_lessons_giving_a_contacts_email_are_refused_on_their_field_and_nothing_is_saved(
    case, contact, change_case
):
    before = _texts(case)

    response = change_case(lessons_zh=f"有问题请联系 {contact.email}。")

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert list(errors) == ["lessons_zh"]
    assert contact.email in errors["lessons_zh"][0]
    assert _texts(case) == before


def test_a_clean_edit_is_saved(case, change_case):
    response = change_case(summary_en="The client waited two weeks for news of the approval.")

    assert response.status_code == 302
    case.refresh_from_db()
    assert case.summary_en == "The client waited two weeks for news of the approval."
    assert CaseStudy.objects.count() == 1
