"""The complaints admin: an SLA policy takes only values its deadlines can run on, and what only
the services may create has no add page that could never save."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from complaints.models import SlaPolicy

pytestmark = pytest.mark.django_db


@pytest.fixture
def policy():
    return SlaPolicy.objects.get(is_default=True)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("timezone", "Mars/Base"),
        ("timezone", ""),
        ("followup_days", [-5, 99999]),
        ("followup_days", ["abc", {"x": 1}]),
        ("followup_days", "hello"),
        ("followup_days", [True]),
        ("compensation_approval_above", -1),
    ],
)
def test_a_policy_value_its_deadlines_cannot_run_on_is_refused_on_its_field(policy, field, value):
    setattr(policy, field, value)

    with pytest.raises(ValidationError) as refused:
        policy.full_clean()

    assert list(refused.value.message_dict) == [field]


def test_the_policy_admin_refuses_an_unknown_time_zone_and_saves_nothing(client, admin_user, policy):
    client.force_login(admin_user)
    url = reverse("admin:complaints_slapolicy_change", args=[policy.pk])
    form = client.get(url).context["adminform"].form
    data = {name: form[name].value() for name in form.fields if form[name].value() is not None}
    data["followup_days"] = "[7, 30]"

    response = client.post(url, {**data, "timezone": "Mars/Base"}, HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 200
    assert list(response.context["adminform"].form.errors) == ["timezone"]
    policy.refresh_from_db()
    assert policy.timezone != "Mars/Base"


@pytest.mark.parametrize("model", ["complaint", "followupvisit", "casestudy"])
def test_what_only_the_services_create_has_no_add_page(client, admin_user, model):
    client.force_login(admin_user)

    assert client.get(reverse(f"admin:complaints_{model}_add")).status_code == 403
