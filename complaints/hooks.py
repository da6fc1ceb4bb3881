"""Reactions to other apps' events, registered in ComplaintsConfig.ready()."""

from django.utils import translation
from django.utils.translation import gettext as _

from feedback.selectors import asks_to_be_contacted

from .models import Channel
from .services import complaint_raise_from_client, survey_response_source_key


def raise_complaint_from_survey(response) -> None:
    """A dissatisfied respondent who asked to be contacted gets a complaint on the regulator's
    clock, once. A satisfied one who asks for a call is no complaint: feedback raises a
    contact-request alert for the RM instead.

    The request is the answer flagged as such in the survey's options (see
    `feedback.models.CONTACT_REQUEST_FLAG`), not a fixed value: the shipped survey says "yes".
    """
    if not response.is_detractor or not asks_to_be_contacted(response):
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
        source_key=survey_response_source_key(response.pk),
    )
