from django.urls import path

from classbook.notifications import views

app_name = "notifications"

urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("settings/", views.preferences, name="preferences"),
    path("class/<int:class_id>/notices/", views.class_notices, name="class_notices"),
]
