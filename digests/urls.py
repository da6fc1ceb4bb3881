from django.urls import path

from . import views

app_name = "digests"

urlpatterns = [
    path("digests/preview/", views.preview, name="preview"),
    path("digests/preview/email/", views.preview_email, name="preview-email"),
    path("digests/settings/", views.preference, name="settings"),
    path("digests/unsubscribe/<str:token>/", views.unsubscribe, name="unsubscribe"),
]
