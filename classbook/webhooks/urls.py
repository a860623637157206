from django.urls import path

from classbook.webhooks import views

app_name = "webhooks"

urlpatterns = [
    path("", views.subscriptions, name="list"),
    path("<int:webhook_id>/", views.subscription, name="detail"),
]
