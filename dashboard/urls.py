from django.urls import path

from . import exports, project_page, responses, status_page, views

app_name = "dashboard"

urlpatterns = [
    path("", views.home, name="home"),
    path("team/", views.team, name="team"),
    path("alerts/<int:pk>/<str:action>/", views.alert_action, name="alert-action"),
    path("projects/<int:pk>/", views.project_detail, name="project"),
    path("projects/<int:pk>/survey/", project_page.send_survey, name="project-survey"),
    path("projects/<int:pk>/<str:action>/", views.project_action, name="project-action"),
    path("commitments/<int:pk>/<str:action>/", views.commitment_action, name="commitment-action"),
    path("status-links/<int:pk>/revoke/", views.status_link_revoke, name="status-link-revoke"),
    path("clients/<int:pk>/", views.client_detail, name="client"),
    path("responses/", responses.response_list, name="responses"),
    path("p/<str:token>/", status_page.status_page, name="status-page"),
    path("exports/portfolio.<str:fmt>", exports.portfolio_export, name="export-portfolio"),
    path("exports/kpis.<str:fmt>", exports.kpi_export, name="export-kpis"),
]
