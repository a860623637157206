from django.urls import path

app_name = "school_people"

urlpatterns: list[path] = []  # type: ignore[valid-type]
