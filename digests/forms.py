from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _


class DigestPreferenceForm(forms.Form):
    enabled = forms.BooleanField(label=_("Send me the weekly digest"), required=False)
    language = forms.ChoiceField(
        label=_("Digest language"),
        required=False,
        choices=[("", _("Same as my profile")), *list(settings.LANGUAGES)],
    )
