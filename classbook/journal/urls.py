from django.urls import path

from classbook.journal import attachment_views, views

app_name = "journal"

urlpatterns = [
    path("", views.index, name="index"),
    path("<int:assignment_id>/", views.grid, name="grid"),
    path("<int:assignment_id>/cell/", views.save_cell, name="save_cell"),
    path("<int:assignment_id>/correct/", views.correct_grade, name="correct_grade"),
    path("<int:assignment_id>/history/", views.history, name="history"),
    path("<int:assignment_id>/lessons/add/", views.add_lesson, name="add_lesson"),
    path("<int:assignment_id>/lessons/<int:lesson_id>/", views.save_lesson, name="save_lesson"),
    path("<int:assignment_id>/lessons/<int:lesson_id>/register/", views.take_register, name="take_register"),
    path("<int:assignment_id>/lessons/<int:lesson_id>/files/", attachment_views.lesson_files, name="lesson_files"),
    path("<int:assignment_id>/lessons/<int:lesson_id>/files/upload/", attachment_views.upload, name="upload_file"),
    path("<int:assignment_id>/files/<int:file_id>/remove/", attachment_views.remove, name="remove_file"),
    path("files/<int:file_id>/", attachment_views.download, name="download_file"),
]
