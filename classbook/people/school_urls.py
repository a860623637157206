from django.urls import path

from classbook.people import views

app_name = "school_people"

urlpatterns = [
    path("codes/", views.codes, name="codes"),
    path("codes/slips/", views.codes_slips, name="codes_slips"),
    path("codes/<int:user_id>/revoke/", views.codes_revoke, name="codes_revoke"),
]
