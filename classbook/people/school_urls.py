from django.urls import URLPattern, path  # noqa: F401

app_name = "school_people"

urlpatterns: list[URLPattern] = []
