"""Small helpers of the dashboard's templates.

`{{ alert.opened_at|opened_ago:now }}`: "opened 5 minutes ago", or "opened just now" under a
minute. `{% kept_params "q stage page" %}`: inside a GET filter form, the page's other query
parameters as hidden inputs, so that the form sends its own current values and keeps the rest."""

from django import template
from django.utils.html import format_html_join

from .. import display

register = template.Library()


@register.filter
def opened_ago(value, now):
    return display.opened_ago(value, now=now)


@register.simple_tag(takes_context=True)
def kept_params(context, fields: str):
    """Hidden inputs for the page's query parameters other than `fields` (the form's own, and the
    page number its list starts again from), each once, with the value the page reads (the last):
    a parameter repeated in the address is not carried on."""
    params = context["request"].GET
    own = set(fields.split())
    return format_html_join(
        "",
        '<input type="hidden" name="{}" value="{}">',
        ((name, params[name]) for name in params if name not in own),
    )
