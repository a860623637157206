from django.urls import path

from classbook.reports import authority_views

app_name = "authority_reports"

urlpatterns = [
    path("compare/", authority_views.compare, name="compare"),
    path("compare/run", authority_views.compare_run, name="compare_run"),
    path("compare.<str:fmt>", authority_views.compare_export, name="compare_export"),
    path("runs/<int:pk>/", authority_views.run, name="run"),
    path("runs/<int:pk>/file", authority_views.run_file, name="run_file"),
    path("runs/<int:pk>/compare.<str:fmt>", authority_views.run_export, name="run_export"),
]
