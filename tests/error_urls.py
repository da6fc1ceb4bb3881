"""The site's routes and error handlers, plus two addresses that fail, to see the handlers answer."""

from django.urls import path

from cem.urls import *  # noqa: F403 - handler404 and handler500 come with the routes
from cem.urls import urlpatterns as site_routes


def fails(request):
    raise RuntimeError("an unexpected failure")


urlpatterns = [path("api/v1/fails/", fails), path("fails/", fails), *site_routes]
