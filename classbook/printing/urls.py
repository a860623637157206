from django.urls import path

from classbook.printing import views

app_name = "printing"

urlpatterns = [
    path("", views.index, name="index"),
    path("class/<int:class_id>/", views.class_print, name="class"),
    path("class/<int:class_id>/journal.pdf", views.journal_pdf, name="journal_pdf"),
    path("class/<int:class_id>/summary.pdf", views.summary_pdf, name="summary_pdf"),
    path("verify/", views.verify, name="verify"),
]
