"""Messages, announcements and the forum under ``/s/<school>/`` (R5.3, R5.4)."""

from django.urls import path

from classbook.messaging import views

app_name = "messaging"

urlpatterns = [
    path("messages/", views.inbox, name="inbox"),
    path("messages/unread/", views.unread_badge, name="unread"),
    path("messages/new/", views.new_conversation, name="new"),
    path("messages/unanswered/", views.unanswered, name="unanswered"),
    path("messages/files/<int:file_id>/", views.attachment, name="attachment"),
    path("messages/<int:conversation_id>/", views.conversation, name="conversation"),
    path("messages/<int:conversation_id>/reply/", views.reply, name="reply"),
    path("announcements/", views.announcements, name="announcements"),
    path("announcements/new/", views.new_announcement, name="new_announcement"),
    path("announcements/<int:announcement_id>/", views.announcement, name="announcement"),
    path("announcements/<int:announcement_id>/withdraw/", views.withdraw_announcement, name="withdraw_announcement"),
    path("forum/", views.forum, name="forum"),
    path("forum/new/", views.new_topic, name="new_topic"),
    path("forum/<int:topic_id>/", views.topic, name="topic"),
    path("forum/<int:topic_id>/close/", views.close_topic, name="close_topic"),
    path("forum/replies/<int:reply_id>/hide/", views.hide_reply, name="hide_reply"),
]
