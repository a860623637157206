from django.urls import path

from classbook.notifications import views

app_name = "notifications"

urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("settings/", views.preferences, name="preferences"),
    path("sms/", views.phone_settings, name="phone_settings"),
    path("class/<int:class_id>/notices/", views.class_notices, name="class_notices"),
]
