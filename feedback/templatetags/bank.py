"""`{% bank_name %}`: the bank's name as clients see it on their pages and e-mails."""

from django import template

from feedback.outbox import bank_name as configured_bank_name

register = template.Library()


@register.simple_tag
def bank_name() -> str:
    return configured_bank_name()
