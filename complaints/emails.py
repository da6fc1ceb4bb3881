"""Emails about complaints, each from three templates (`emails/<kind>-subject.txt`,
`-body.txt`, `-body.html`), rendered in the recipient's language."""

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import translation


def make_message(*, kind: str, to: str, language: str, context: dict) -> EmailMultiAlternatives:
    context = {"site_url": settings.SITE_URL, **context}
    with translation.override(language or settings.LANGUAGE_CODE):
        subject = " ".join(render_to_string(f"emails/{kind}-subject.txt", context).split())
        text = render_to_string(f"emails/{kind}-body.txt", context)
        html = render_to_string(f"emails/{kind}-body.html", context)
    message = EmailMultiAlternatives(subject=subject, body=text, to=[to])
    message.attach_alternative(html, "text/html")
    return message


def send(*, kind: str, to: str, language: str, context: dict) -> None:
    make_message(kind=kind, to=to, language=language, context=context).send()
