from django.urls import path

from . import views

app_name = "complaints"

urlpatterns = [
    path("complaints/", views.complaint_list, name="list"),
    path("complaints/new/", views.complaint_create, name="create"),
    path(
        "complaints/from-survey-response/<int:response_id>/",
        views.complaint_from_survey_response,
        name="from-survey-response",
    ),
    path("complaints/reports/", views.reports, name="reports"),
    path("complaints/reports/export.<str:fmt>", views.reports_export, name="export"),
    path("complaints/<int:pk>/", views.complaint_detail, name="detail"),
    path("complaints/<int:pk>/actions/<int:action_id>/done/", views.recovery_action_done, name="action-done"),
    path("complaints/<int:pk>/followups/<int:followup_id>/done/", views.followup_done, name="followup-done"),
    path("complaints/<int:pk>/<slug:name>/", views.complaint_action, name="action"),
    path("cases/", views.case_list, name="cases"),
    path("cases/<int:pk>/", views.case_detail, name="case"),
    path("c/<str:token>/", views.client_page, name="client"),
]
