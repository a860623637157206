"""Record books' pages, mounted at ``/s/<school>/records/``."""

from django.urls import path

from classbook.records import views

app_name = "records"

urlpatterns = [
    path("orders/", views.order_list, name="orders"),
    path("orders/new/", views.order_new, name="order_new"),
    path("orders/book.pdf", views.order_book_pdf, name="order_book_pdf"),
    path("orders/close-year/", views.close_year, name="close_year"),
    path("orders/<int:order_id>/", views.order_detail, name="order"),
    path("orders/<int:order_id>/edit/", views.order_edit, name="order_edit"),
    path("orders/<int:order_id>/delete/", views.order_delete, name="order_delete"),
    path("orders/<int:order_id>/sign/", views.order_sign, name="order_sign"),
    path("students/<int:student_id>/file/", views.personal_file, name="personal_file"),
    path("students/<int:student_id>/file.pdf", views.personal_file_pdf, name="personal_file_pdf"),
    path("alphabetical-book.pdf", views.alphabetical_book_pdf, name="alphabetical_book_pdf"),
]
