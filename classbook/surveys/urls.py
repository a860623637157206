"""Surveys under ``/s/<school>/surveys/`` (R9.3)."""

from django.urls import path

from classbook.surveys import views

app_name = "surveys"

urlpatterns = [
    path("", views.index, name="index"),
    path("new/", views.new, name="new"),
    path("may/", views.may_template, name="may_template"),
    path("<int:survey_id>/", views.detail, name="detail"),
    path("<int:survey_id>/questions/", views.add_question, name="add_question"),
    path("<int:survey_id>/status/", views.change_status, name="change_status"),
    path("<int:survey_id>/answer/", views.answer, name="answer"),
    path("<int:survey_id>/results/", views.results, name="results"),
    path("questions/<int:question_id>/", views.question_action, name="question_action"),
]
