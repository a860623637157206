from django.urls import path

from classbook.timetable import views

app_name = "timetable"

urlpatterns = [
    path("", views.index, name="index"),
    path("my/", views.my_timetable, name="my"),
    path("class/<int:class_id>/", views.class_timetable, name="class"),
    path("teacher/<int:user_id>/", views.teacher_timetable, name="teacher"),
    path("room/<int:room_id>/", views.room_timetable, name="room"),
    path("student/<int:student_id>/", views.student_timetable, name="student"),
    path("edit/<int:class_id>/", views.edit_class, name="edit"),
    path("edit/<int:class_id>/add/", views.add_entry, name="add_entry"),
    path("entry/<int:entry_id>/change/", views.change_entry, name="change_entry"),
    path("entry/<int:entry_id>/remove/", views.remove_entry, name="remove_entry"),
    path("generate/", views.generate, name="generate"),
    path("bells/", views.bells, name="bells"),
    path("lesson/<int:lesson_id>/change/", views.lesson_change, name="lesson_change"),
    path("changes/", views.changes, name="changes"),
    path("changes.csv", views.changes_csv, name="changes_csv"),
    path("calendar/", views.calendar_feed_page, name="calendar"),
]
