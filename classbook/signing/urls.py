from django.urls import path

from classbook.signing import views

app_name = "signing"

urlpatterns = [
    path("", views.certificate, name="certificate"),
]
