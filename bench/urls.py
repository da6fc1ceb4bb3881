"""The product's addresses plus the survey benchmark's write floor (bench/survey_settings.py)."""

from django.urls import path

from cem.urls import handler404, handler500
from cem.urls import urlpatterns as product_urlpatterns

from . import views

urlpatterns = [path("bench/write/<str:token>/", views.submission_floor), *product_urlpatterns]

__all__ = ["handler404", "handler500", "urlpatterns"]
