"""What every app's admin shares.

- `DateRangeAdminMixin`: the date-time and date fields of `cem.form_fields` behind the admin's
  own calendar and clock widgets, so the back office refuses a moment near Python's date limits
  (year 1, year 9999) as bad input, like the pages and the API, instead of answering 500 or
  storing a moment that breaks every page showing it in another time zone. Its change lists
  take a date drill-down into the year 1 or 9999 as the bad parameter it is (Django's "?e=1"
  page), instead of overflowing into a 500.
- `ServiceRulesAdminMixin`: a business rule that a service refuses while the admin saves is
  shown on the form again, like a field error, instead of answering 500.

Not an app: nothing here is registered but the installed packages' admins, held to the same rules
(`cem.admin_third_party`, imported at the end, so any app's admin that imports this module puts
them in place). Every app's ModelAdmin and inline names `DateRangeAdminMixin` first among its
bases (tests/security/test_far_out_dates_in_admin.py checks); a ModelAdmin that saves through a
service names `ServiceRulesAdminMixin` next.
"""

from django.contrib.admin import widgets
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models

from cem.form_fields import DateField, SplitDateTimeField

# Merged by the admin over its own defaults (options.FORMFIELD_FOR_DBFIELD_DEFAULTS), keyed by
# the model field's class and found along its MRO: `DateTimeField` before `DateField`, its base.
# Fields with choices, read-only fields and `formfield_for_dbfield` kwargs are left as Django has them.
FORMFIELD_OVERRIDES = {
    models.DateTimeField: {"form_class": SplitDateTimeField, "widget": widgets.AdminSplitDateTime},
    models.DateField: {"form_class": DateField, "widget": widgets.AdminDateWidget},
}


# The years a change list's date drill-down may open. Django reaches past the chosen period for
# its end (the year after 9999 does not exist) and shifts it from the staff member's zone to UTC
# (past year 1 or 9999), outside its own check of the parameters; no stored moment lies there.
DRILLABLE_YEARS = range(2, 9999)


class BoundedDateChangeList(ChangeList):
    def get_filters(self, request):
        if self.date_hierarchy:
            year = request.GET.get(f"{self.date_hierarchy}__year")
            try:
                # As Django reads it (signs, spaces, "_" and any script's digits), thousands of
                # digits aside.
                number = int(year) if year is not None and len(year) <= 20 else None
            except ValueError:
                number = None  # Django's own check reports it
            if number is not None and number not in DRILLABLE_YEARS:
                raise IncorrectLookupParameters(f"The year {number} cannot be shown.")
        return super().get_filters(request)


class DateRangeAdminMixin:
    """Date-times and dates read through the range-checking fields; for any ModelAdmin or inline."""

    formfield_overrides = FORMFIELD_OVERRIDES

    def get_changelist(self, request, **kwargs):
        return BoundedDateChangeList


# Request attributes: set once the admin has judged the form valid and starts saving, and the
# service's refusal to show on the second pass.
_SAVING = "_cem_admin_saving"
_REFUSAL = "_cem_admin_refusal"


class ServiceRulesAdminMixin:
    """Shows a service's refusal on the add/change form, with nothing saved.

    Django calls `save_model`/`save_related` only after the form was judged valid, too late to
    report a field error: a `ValidationError` (or a `PermissionDenied` with a message) that the
    service raises there escaped as a 500 (a 403). The rules stay in the services, checked once,
    where they hold (under the service's row locks), so none is copied into the forms. Instead:

    1. The refusal leaves the admin's own transaction around the save (`changeform_view` opens
       one for a POST), which rolls back whatever the save had written; its `on_commit` work
       (emails, tasks) goes too.
    2. The view runs once more on the same POST, and the form adds the refusal to its errors
       while it validates: on the field named by the service when the form shows that field,
       above the form otherwise. So the page is the admin's usual "please correct the errors"
       page, with the typed input and the inlines as sent; the invalid form saves nothing.

    Only what is raised once saving has begun (`save_form` is its first step) is caught: the
    admin's own permission checks, before it, still answer 403. Deletions and actions are not
    covered: a delete view or an action catches its service's refusal itself.
    """

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except (ValidationError, PermissionDenied) as error:
            if not getattr(request, _SAVING, False) or getattr(request, _REFUSAL, None) is not None:
                raise
            if isinstance(error, PermissionDenied):
                if not str(error):
                    raise
                error = ValidationError(str(error))
            refusal = error
        setattr(request, _SAVING, False)
        setattr(request, _REFUSAL, refusal)
        return super().changeform_view(request, object_id, form_url, extra_context)

    def save_form(self, request, form, change):
        setattr(request, _SAVING, True)
        return super().save_form(request, form, change)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form_class = super().get_form(request, obj, change=change, **kwargs)
        refusal = getattr(request, _REFUSAL, None)
        if refusal is None:
            return form_class

        class RefusedForm(form_class):
            def full_clean(self):
                super().full_clean()
                if self.is_bound:
                    _add_refusal(self, refusal)

        RefusedForm.__name__ = RefusedForm.__qualname__ = form_class.__name__
        return RefusedForm


def _add_refusal(form, refusal: ValidationError) -> None:
    if not hasattr(refusal, "error_dict"):
        form.add_error(None, refusal)
        return
    for field, errors in refusal.error_dict.items():
        form.add_error(field if field in form.fields else None, errors)


# Last: it builds on the mixins above.
from cem import admin_third_party  # noqa: E402, F401
