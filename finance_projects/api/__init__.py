"""The core domain's REST API, gathered for `cem.api_urls`."""

from . import alerts, core, imports

ROUTES = [*core.ROUTES, *alerts.ROUTES, *imports.ROUTES]
URLPATTERNS = [*core.URLPATTERNS, *alerts.URLPATTERNS, *imports.URLPATTERNS]
