"""A user's time zone must be one the server knows: an unknown name ("Mars/Olympus") used to be
saved from the admin, after which that user's pages quietly fell back to the site's zone. The
admin offers the known zones as a list and refuses anything else next to the field; the model
field refuses it too, so every other form that edits it does."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import translation

from tests.accounts.admin_forms import change_form_data

pytestmark = pytest.mark.django_db

UNKNOWN_ZONE = "Not a known time zone; use a name such as Asia/Shanghai or Europe/London."


def test_the_admin_refuses_an_unknown_time_zone_next_to_the_field(staff, owner):
    response = staff.post(
        reverse("admin:accounts_user_change", args=[owner.pk]),
        change_form_data(owner, time_zone="Mars/Olympus"),
    )

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert list(errors) == ["time_zone"]
    owner.refresh_from_db()
    assert owner.time_zone == "Asia/Shanghai"


def test_the_admin_saves_a_known_time_zone(staff, owner):
    response = staff.post(
        reverse("admin:accounts_user_change", args=[owner.pk]),
        change_form_data(owner, time_zone="Europe/London"),
    )

    assert response.status_code == 302
    owner.refresh_from_db()
    assert owner.time_zone == "Europe/London"


def test_the_admin_offers_the_known_time_zones_as_a_list(staff, owner):
    page = staff.get(reverse("admin:accounts_user_change", args=[owner.pk]))

    field = page.context["adminform"].form.fields["time_zone"]
    names = [value for value, _label in field.choices]
    assert "Asia/Shanghai" in names and "Europe/London" in names
    assert "Mars/Olympus" not in names
    assert '<select name="time_zone"' in page.content.decode()


def test_a_stored_unknown_zone_shows_empty_in_the_admin_not_as_the_first_zone(staff, owner):
    owner.time_zone = "Mars/Olympus"
    owner.save()

    response = staff.post(reverse("admin:accounts_user_change", args=[owner.pk]), change_form_data(owner))

    form = response.context["adminform"].form
    assert next(iter(form.fields["time_zone"].choices)) == ("", "---------")
    assert list(form.errors) == ["time_zone"]


def test_the_user_model_refuses_an_unknown_time_zone_with_a_clear_message(owner):
    owner.time_zone = "Mars/Olympus"
    with translation.override("en"), pytest.raises(ValidationError) as refused:
        owner.full_clean()
    with translation.override("en"):  # the message is lazy: read it in the language
        assert refused.value.message_dict == {"time_zone": [UNKNOWN_ZONE]}


def test_the_refusal_reads_in_chinese(owner):
    owner.time_zone = "Mars/Olympus"
    with translation.override("zh-hans"):
        with pytest.raises(ValidationError) as refused:
            owner.full_clean()
        assert refused.value.message_dict["time_zone"] == [
            "不是有效的时区，请使用 Asia/Shanghai 或 Europe/London 这样的名称。"
        ]
