"""`/api/v1/`: every app contributes its viewsets through `ROUTES` and extra paths through
`URLPATTERNS` in its `api` module; this file only gathers them."""

from rest_framework.routers import DefaultRouter

from accounts import api as accounts_api
from complaints import api as complaints_api
from dashboard import api as dashboard_api
from feedback import api as feedback_api
from finance_projects import api as finance_projects_api

API_MODULES = [accounts_api, finance_projects_api, feedback_api, complaints_api, dashboard_api]

# No `.json` suffix routes: the API speaks JSON only, and @action views do not take `format`.
router = DefaultRouter()
router.include_format_suffixes = False
for module in API_MODULES:
    for prefix, viewset, basename in getattr(module, "ROUTES", []):
        router.register(prefix, viewset, basename=basename)

urlpatterns = [url for module in API_MODULES for url in getattr(module, "URLPATTERNS", [])] + router.urls
