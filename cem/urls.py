from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView

from accounts.views import api_docs

from . import views

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    # Browsers ask for /favicon.ico on pages that name no icon (the admin's, a JSON answer).
    path("favicon.ico", views.favicon, name="favicon"),
    path("admin/", admin.site.urls),
    path("accounts/", include("accounts.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/v1/", include("cem.api_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", api_docs, name="api-docs"),
    path("", include("feedback.urls")),
    path("", include("complaints.urls")),
    path("", include("finance_projects.urls")),
    path("", include("digests.urls")),
    path("", include("dashboard.urls")),
]

if settings.BENCH_ENDPOINTS:
    # The floor for load benchmarks: the same server, middleware and gunicorn, no app work.
    urlpatterns.insert(0, path("bench/bare", views.bare, name="bench-bare"))

handler404 = "cem.views.page_not_found"
handler500 = "cem.views.server_error"
