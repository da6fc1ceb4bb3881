"""Form fields shared by the pages that edit survey responses (the admin, the dashboard)."""

from django import forms

from finance_projects.models import FailureCategory


class FailureCategoriesField(forms.MultipleChoiceField):
    """The five failure categories as boxes to tick: only known ones can be chosen, and none
    ticked is a valid answer (the comment speaks of no failure)."""

    widget = forms.CheckboxSelectMultiple

    def __init__(self, **kwargs):
        super().__init__(choices=FailureCategory.choices, required=False, **kwargs)
