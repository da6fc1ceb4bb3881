"""Reactions to other apps' events, registered in ComplaintsConfig.ready()."""

from django.utils import translation
from django.utils.translation import gettext as _

from .models import Channel
from .services import complaint_raise_from_client

# A single-choice survey answer with this value means "please contact me about a problem".
CONTACT_REQUEST_VALUE = "contact_me"


def raise_complaint_from_survey(response) -> None:
    """A respondent who asked to be contacted gets a complaint on the regulator's clock, once."""
    answers = response.answers or {}
    if CONTACT_REQUEST_VALUE not in {str(value) for value in answers.values()}:
        return
    invitation = response.invitation
    with translation.override(invitation.contact.language):
        description = response.comment.strip() or _("The client asked to be contacted in a survey answer.")
    categories = response.categories or []
    complaint_raise_from_client(
        project=invitation.project,
        contact=invitation.contact,
        description=description,
        category=categories[0] if categories else None,
        channel=Channel.SURVEY,
        source_key=f"survey_response:{response.pk}",
    )
