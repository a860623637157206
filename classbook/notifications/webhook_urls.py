from django.urls import path

from classbook.notifications import views

urlpatterns = [
    path("telegram/webhook/", views.telegram_webhook, name="telegram-webhook"),
]
