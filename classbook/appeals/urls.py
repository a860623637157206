"""Absence reasons and flagged marks under ``/s/<school>/appeals/`` (R2.8, R2.11)."""

from django.urls import path

from classbook.appeals import views

app_name = "appeals"

urlpatterns = [
    path("absences/", views.absences, name="absences"),
    path("absences/reasons/", views.record_reasons, name="record_reasons"),
    path("reports/", views.reports, name="reports"),
    path("reports/new/", views.new_report, name="new_report"),
    path("reports/<int:report_id>/decide/", views.decide_report, name="decide_report"),
    path("reports/<int:report_id>/apply/", views.apply_report, name="apply_report"),
    path("reports/<int:report_id>/document/", views.report_document, name="report_document"),
    path("flags/", views.flags, name="flags"),
    path("marks/<int:mark_id>/flag/", views.flag_mark, name="flag_mark"),
    path("flags/<int:flag_id>/answer/", views.answer_flag, name="answer_flag"),
]
