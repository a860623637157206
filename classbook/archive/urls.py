from django.urls import path

from classbook.archive import views

app_name = "archive"

urlpatterns = [
    path("", views.index, name="index"),
    path("build/", views.build_now, name="build"),
    path("builds/<int:pk>/retry/", views.retry, name="retry"),
    path("<int:pk>/file", views.download, name="download"),
    path("<int:pk>/delete/", views.delete, name="delete"),
    path("verify/", views.check, name="verify"),
    path("destruction/", views.destruction, name="destruction"),
    path("destruction/<int:pk>/confirm/", views.confirm, name="confirm"),
    path("settings/", views.archive_settings, name="settings"),
]
