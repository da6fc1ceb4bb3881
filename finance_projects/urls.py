from django.urls import path

from . import import_views

urlpatterns = [
    path("imports/", import_views.import_start, name="import-start"),
    path("imports/<int:pk>/", import_views.import_detail, name="import-detail"),
    path("imports/<int:pk>/errors.csv", import_views.import_errors_csv, name="import-errors-csv"),
    path("imports/templates/<str:kind>.csv", import_views.import_template, name="import-template"),
]
