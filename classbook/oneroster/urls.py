"""Mounted at /ims/oneroster/ (classbook/urls.py): the token endpoint and the two read-only services."""

from django.urls import path

from classbook.oneroster import views

app_name = "oneroster"

urlpatterns = [
    path("oauth2/token", views.token, name="token"),
    path("<str:api>/v1p2/<str:name>", views.collection_view, name="collection"),
    path("<str:api>/v1p2/<str:name>/<str:sourced_id>", views.object_view, name="object"),
    path("<str:api>/v1p2/<str:parent>/<str:parent_id>/<str:name>", views.nested_view, name="nested"),
]
