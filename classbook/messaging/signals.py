"""Events of the messaging app, for notifications (R5.5) built elsewhere.

Each is sent after the transaction that wrote the row has committed (``transaction.on_commit``), so a
receiver never sees a row that was rolled back:

- ``message_posted(sender=Message, instance=message)`` — a new message in a conversation (the first one too);
- ``announcement_published(sender=Announcement, instance=announcement)``;
- ``forum_reply_posted(sender=ForumReply, instance=reply)``.
"""

from __future__ import annotations

from django.dispatch import Signal

message_posted = Signal()
announcement_published = Signal()
forum_reply_posted = Signal()
