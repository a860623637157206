"""Portfolios under ``/s/<school>/portfolios/`` (R8.2)."""

from django.urls import path

from classbook.portfolios import views

app_name = "portfolios"

urlpatterns = [
    path("", views.index, name="index"),
    path("students/<int:student_id>/", views.student, name="student"),
    path("students/<int:student_id>/portfolio.pdf", views.student_pdf, name="student_pdf"),
    path("projects/new/", views.project_new, name="project_new"),
    path("projects/<int:project_id>/", views.project, name="project"),
    path("projects/<int:project_id>/portfolio.pdf", views.project_pdf, name="project_pdf"),
    path("entries/<int:entry_id>/file/", views.entry_file, name="entry_file"),
    path("entries/<int:entry_id>/remove/", views.entry_remove, name="entry_remove"),
    path("entries/<int:entry_id>/request/", views.entry_request, name="entry_request"),
    path("entries/<int:entry_id>/decide/", views.entry_decide, name="entry_decide"),
]
