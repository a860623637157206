from django.urls import path

from classbook.reports import views

app_name = "reports"

urlpatterns = [
    path("", views.index, name="index"),
    path("progress/", views.progress, name="progress"),
    path("progress.<str:fmt>", views.progress_export, name="progress_export"),
    path("summary/", views.summary, name="summary"),
    path("summary.<str:fmt>", views.summary_export, name="summary_export"),
    path("settings/", views.report_settings, name="settings"),
]
