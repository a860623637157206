from django.urls import path

from classbook.schools import views

app_name = "schools"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
]
