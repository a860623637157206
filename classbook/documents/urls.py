"""School documents and the catalogue of resources under ``/s/<school>/documents/`` (R8.3)."""

from django.urls import path

from classbook.documents import views

app_name = "documents"

urlpatterns = [
    path("", views.index, name="index"),
    path("new/", views.new, name="new"),
    path("<int:document_id>/", views.detail, name="detail"),
    path("<int:document_id>/versions/", views.upload_version, name="upload_version"),
    path("versions/<int:version_id>/download/", views.download, name="download"),
    path("resources/", views.resources, name="resources"),
    path("resources/<int:resource_id>/", views.resource_detail, name="resource"),
    path("resources/<int:resource_id>/delete/", views.resource_delete, name="resource_delete"),
]
