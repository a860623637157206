from django.urls import path

from classbook.help import views

app_name = "school_help"

urlpatterns = [
    path("", views.school_index, name="index"),
    path("<slug:slug>/", views.school_article, name="article"),
]
