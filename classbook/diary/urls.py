"""The diary's pages under ``/s/<school>/diary/``."""

from django.urls import path

from classbook.diary import views

app_name = "diary"

urlpatterns = [
    path("", views.index, name="index"),
    path("settings/", views.settings_page, name="settings"),
    path("class/<int:class_id>/letters/", views.class_letters, name="class_letters"),
    path("class/<int:class_id>/letters.pdf", views.class_letters_pdf, name="class_letters_pdf"),
    path("<int:student_id>/", views.current_week, name="student"),
    path("<int:student_id>/week/<str:day>/", views.week, name="week"),
    path("<int:student_id>/marks/", views.marks, name="marks"),
    path("<int:student_id>/letter/", views.letter, name="letter"),
    path("<int:student_id>/letter.pdf", views.letter_pdf, name="letter_pdf"),
]
