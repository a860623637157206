"""The school's OneRoster page, mounted at ``/s/<school>/oneroster/`` (the REST provider is ``urls``)."""

from django.urls import path

from classbook.oneroster import pages

app_name = "oneroster_pages"

urlpatterns = [
    path("", pages.index, name="index"),
    path("export.zip", pages.export, name="export"),
    path("clients/", pages.clients, name="clients"),
]
