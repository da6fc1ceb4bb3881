"""The digest email: three templates (`emails/digest-subject.txt`, `-body.txt`, `-body.html`)
rendered in the recipient's language and time zone, with a one-click unsubscribe link."""

from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.core import signing
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse

from accounts.models import User

from .selectors import Digest, absolute, recipient_locale

UNSUBSCRIBE_SALT = "digests.unsubscribe"


@dataclass(frozen=True)
class RenderedDigest:
    subject: str
    text: str
    html: str


def unsubscribe_token(user: User) -> str:
    return signing.dumps(user.pk, salt=UNSUBSCRIBE_SALT, compress=True)


def user_from_unsubscribe_token(token: str) -> User | None:
    try:
        user_id = signing.loads(token, salt=UNSUBSCRIBE_SALT)
    except signing.BadSignature:
        return None
    return User.objects.filter(pk=user_id, is_active=True).first()


def unsubscribe_url(user: User) -> str:
    return absolute(reverse("digests:unsubscribe", args=[unsubscribe_token(user)]))


def digest_context(digest: Digest) -> dict:
    week = str(digest.week)
    return {
        "digest": digest,
        "site_url": settings.SITE_URL,
        "dashboard_url": absolute("/"),
        "preview_url": absolute(f"{reverse('digests:preview')}?week={week}"),
        "settings_url": absolute(reverse("digests:settings")),
        "unsubscribe_url": unsubscribe_url(digest.recipient),
    }


def render_digest(digest: Digest) -> RenderedDigest:
    context = digest_context(digest)
    with recipient_locale(digest.recipient, digest.language):
        subject = " ".join(render_to_string("emails/digest-subject.txt", context).split())
        text = render_to_string("emails/digest-body.txt", context)
        html = render_to_string("emails/digest-body.html", context)
    return RenderedDigest(subject=subject, text=text, html=html)


def digest_message(digest: Digest) -> EmailMultiAlternatives:
    """The email for one digest. Its Message-ID is fixed per recipient and week, so a copy that
    a dead worker's retry might send again is recognised as the same message by mail servers."""
    rendered = render_digest(digest)
    unsubscribe = unsubscribe_url(digest.recipient)
    domain = urlsplit(settings.SITE_URL).hostname or "localhost"
    message = EmailMultiAlternatives(
        subject=rendered.subject,
        body=rendered.text,
        to=[digest.recipient.email],
        headers={
            "Message-ID": f"<digest-{digest.recipient.pk}-{digest.week}@{domain}>",
            "List-Unsubscribe": f"<{unsubscribe}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            "Auto-Submitted": "auto-generated",
        },
    )
    message.attach_alternative(rendered.html, "text/html")
    return message
