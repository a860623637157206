"""The school's journal rules, work types and attendance codes under ``/s/<school>/manage/journal/``."""

from django.urls import path

from classbook.journal import settings_views as views

app_name = "journal_settings"

urlpatterns = [
    path("", views.rules, name="rules"),
    path("<slug:section>/", views.section_list, name="list"),
    path("<slug:section>/new/", views.section_edit, name="new"),
    path("<slug:section>/<int:pk>/", views.section_edit, name="edit"),
    path("<slug:section>/<int:pk>/delete/", views.section_delete, name="delete"),
]
