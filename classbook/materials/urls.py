"""Materials under ``/s/<school>/materials/`` (R8.1)."""

from django.urls import path

from classbook.materials import views

app_name = "materials"

urlpatterns = [
    path("", views.index, name="index"),
    path("new/", views.new, name="new"),
    path("quota/", views.quota, name="quota"),
    path("<int:material_id>/", views.edit, name="edit"),
    path("<int:material_id>/withdraw/", views.withdraw, name="withdraw"),
    path("<int:material_id>/file/", views.download, name="download"),
]
