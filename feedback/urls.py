"""Public pages for clients: no login, reached through a personal link."""

from django.urls import path

from . import views

app_name = "feedback"

urlpatterns = [
    path("s/<str:token>/", views.survey_page, name="survey"),
    path("s/<str:token>/opt-out/", views.opt_out_page, name="opt-out"),
]
