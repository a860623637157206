from django.urls import path

from classbook.schools import views

app_name = "schools"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    # The administration area of the calendar and structure (pages of their own first, then the sections).
    path("manage/", views.manage_home, name="manage"),
    path("manage/settings/", views.settings, name="settings"),
    path("manage/scales/", views.scales, name="scales"),
    path("manage/scales/new/", views.scale_create, name="scale_create"),
    path("manage/scales/<int:pk>/one/", views.scale_toggle_one, name="scale_toggle_one"),
    path("manage/scales/<int:pk>/delete/", views.scale_delete, name="scale_delete"),
    path("manage/workload/", views.workload, name="workload"),
    path("manage/open-year/", views.open_year, name="open_year"),
    path("manage/years/<int:pk>/current/", views.year_make_current, name="year_make_current"),
    path("manage/years/<int:pk>/generate/", views.year_generate_periods, name="year_generate_periods"),
    path("manage/subgroups/<int:pk>/students/", views.subgroup_students, name="subgroup_students"),
    path("manage/<slug:section>/", views.manage_list, name="manage_list"),
    path("manage/<slug:section>/new/", views.manage_create, name="manage_create"),
    path("manage/<slug:section>/<int:pk>/", views.manage_edit, name="manage_edit"),
    path("manage/<slug:section>/<int:pk>/delete/", views.manage_delete, name="manage_delete"),
]
