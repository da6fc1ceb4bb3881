"""Absolute links for the digest email: mail clients cannot follow relative ones."""

from django import template

from digests.selectors import client_url, project_url

register = template.Library()


@register.filter
def project_link(project_id: int) -> str:
    return project_url(project_id)


@register.filter
def client_link(client_id: int) -> str:
    return client_url(client_id)
