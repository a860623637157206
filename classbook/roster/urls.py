"""Roster pages, mounted at ``/s/<school>/roster/``."""

from django.urls import path

from classbook.roster import views

app_name = "roster"

urlpatterns = [
    path("", views.index, name="index"),
    path("staff/", views.staff_list, name="staff"),
    path("staff/add/", views.staff_add, name="staff_add"),
    path("staff/<int:user_id>/", views.staff_member, name="staff_member"),
    path("staff/<int:user_id>/roles/grant/", views.role_grant, name="role_grant"),
    path("staff/<int:user_id>/roles/revoke/", views.role_revoke, name="role_revoke"),
    path("students/", views.student_list, name="students"),
    path("students/add/", views.student_add, name="student_add"),
    path("students/book/", views.alphabetical_book, name="book"),
    path("students/import/", views.student_import, name="student_import"),
    path("students/import/template.csv", views.student_import_template, name="student_import_template"),
    path("students/<int:student_id>/", views.student_card, name="student"),
    path("students/<int:student_id>/edit/", views.student_edit, name="student_edit"),
    path("students/<int:student_id>/move/", views.student_move, name="student_move"),
    path("students/<int:student_id>/withdraw/", views.student_withdraw, name="student_withdraw"),
    path("students/<int:student_id>/guardians/add/", views.guardian_add, name="guardian_add"),
    path("students/<int:student_id>/guardians/link/", views.guardian_link, name="guardian_link"),
    path("students/<int:student_id>/consents/add/", views.consent_add, name="consent_add"),
    path("guardian-links/<int:link_id>/access/", views.guardian_access, name="guardian_access"),
    path("guardian-links/<int:link_id>/end/", views.guardian_end, name="guardian_end"),
    path("guardians/<int:user_id>/", views.guardian_edit, name="guardian_edit"),
    path("consents/", views.consent_list, name="consents"),
    path("consents/<int:consent_id>/withdraw/", views.consent_withdraw, name="consent_withdraw"),
    path("classes/<int:class_id>/", views.class_page, name="class"),
    path("certificates/", views.certificate_book, name="certificates"),
    path("certificates/book.pdf", views.certificate_book_pdf, name="certificates_pdf"),
    path("certificates/add/", views.certificate_add, name="certificate_add"),
    path("certificates/<int:document_id>/", views.certificate_correct, name="certificate"),
    path("my-requests/", views.my_change_requests, name="my_requests"),
    path("requests/", views.change_requests, name="change_requests"),
    path("requests/<int:request_id>/decide/", views.change_request_decide, name="change_request_decide"),
    path("changes/", views.change_feed, name="changes"),
]
