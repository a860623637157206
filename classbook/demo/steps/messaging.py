"""Demo step: messages, announcements and the forum (after the journal).

A handful of rows, the same for any school size (a constant number of queries):

- the demo parent wrote to the class teacher of their second child (answered the next morning), and to the
  demo teacher, the class teacher of their first child, five days ago — still **unanswered**, so the demo
  teacher sees it among "Unanswered parent messages" and the deputy sees the school-wide count (R5.3);
- the deputy asked the demo teacher about the journal, and got an answer (staff conversation);
- announcements: a school-wide parents' meeting (an event with a place), a staff-only teachers' council,
  a year-level olympiad and an excursion of the demo class announced by its class teacher (R5.4);
- a forum topic opened by the director, open to parents, with two replies.

Timestamps derive from the demo's "today" (``journal_until``), so a seed gives the same rows on the same day.

Bulk writers (``classbook.demo.bulk``): ``SchoolBuild.bulk`` (``bulk_create``), then ``update_objects``
to date messages, conversations and announcements in the past (the services stamp "now"), ~20 queries
whatever the size of the school. The messaging services are not called because they send their after-commit
signals (notifications for the demo's own people) and stamp every row with the current time. What
they guarantee, kept here the same way: the same audit rows (``messaging.conversation.started``,
``messaging.announcement.published``, ``messaging.forum_topic.opened`` with the same data), a
conversation's participants are its writer and its addressee with their kinds (guardian, staff), the
read state and "awaiting reply since" follow from who wrote last, who may write to whom (a parent to
their child's teachers; staff to staff), class announcements by the class's own class teacher; messages
are dated before the demo's "today" (in the past whenever the demo runs inside the academic year).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from classbook.core.models import AuditEntry
from classbook.demo.build import SchoolBuild, journal_until
from classbook.demo.bulk import update_objects
from classbook.messaging.models import (
    Announcement,
    Audience,
    Conversation,
    ForumReply,
    ForumTopic,
    Message,
    Participant,
    ParticipantKind,
)


def _at(day: dt.date, delta_days: int, hour: int, minute: int = 0) -> dt.datetime:
    moment = dt.datetime.combine(day + dt.timedelta(days=delta_days), dt.time(hour, minute))
    return timezone.make_aware(moment)


def step_messaging(b: SchoolBuild) -> None:
    school, year = b.school, b.year
    director, deputy, teacher = b.staff.get("director"), b.staff.get("deputy"), b.staff.get("teacher")
    if school is None or year is None or director is None or deputy is None or not b.families:
        return
    today = journal_until(year.start, year.end)
    family = b.families[0]
    parent = family.guardians[0][0] if family.guardians else None

    # (subject, about student, [(sender, kind)], [(sender index, text, days ago, hour)],
    #  whether everybody has read the last message)
    threads: list[tuple[str, Any, list[tuple[Any, str]], list[tuple[int, str, int, int]], bool]] = []
    if parent is not None and len(family.children) > 1:
        second = family.children[1]
        second_teacher = b.student_class[second.pk].class_teacher
        if second_teacher is not None:
            threads.append(
                (
                    "Домашнє завдання з математики",
                    second,
                    [(parent, ParticipantKind.GUARDIAN), (second_teacher, ParticipantKind.STAFF)],
                    [
                        (
                            0,
                            "Добрий вечір! Дитина хворіла і не знає, що задали з математики. Підкажіть, будь ласка.",
                            -10,
                            18,
                        ),
                        (1, "Добрий ранок! Задача № 214 і № 215, сторінка 56. Видужуйте!", -9, 8),
                    ],
                    True,
                )
            )
    if parent is not None and teacher is not None and family.children:
        threads.append(
            (
                "Перескладання контрольної роботи",
                family.children[0],
                [(parent, ParticipantKind.GUARDIAN), (teacher, ParticipantKind.STAFF)],
                [
                    (
                        0,
                        "Добрий день! Дитина пропустила контрольну через хворобу (довідка є). "
                        "Чи можна написати її пізніше?",
                        -5,
                        19,
                    )
                ],
                False,
            )
        )
    if teacher is not None:
        threads.append(
            (
                "Журнал: теми уроків",
                None,
                [(deputy, ParticipantKind.STAFF), (teacher, ParticipantKind.STAFF)],
                [
                    (0, "Прошу до п'ятниці заповнити теми уроків за минулий тиждень.", -2, 12),
                    (1, "Добре, заповню сьогодні ввечері.", -2, 14),
                ],
                False,
            )
        )

    conversations = b.bulk(
        Conversation,
        [
            Conversation(school=school, subject=s, student=st, created_by=people[0][0])
            for s, st, people, _m, _r in threads
        ],
    )
    messages: list[Message] = []
    for conv, (_s, _st, people, texts, _r) in zip(conversations, threads, strict=True):
        for who, text, _days, _hour in texts:
            sender, kind = people[who]
            messages.append(Message(school=school, conversation=conv, sender=sender, sender_kind=kind, body=text))
    b.bulk(Message, messages)

    participants: list[Participant] = []
    index = 0
    for conv, (_s, _st, people, texts, read_all) in zip(conversations, threads, strict=True):
        own = messages[index : index + len(texts)]
        index += len(texts)
        for m, (_w, _t, days, hour) in zip(own, texts, strict=True):
            m.created_at = _at(today, days, hour)
        last = own[-1]
        conv.created_at = _at(today, texts[0][2], texts[0][3])
        conv.last_message = last
        conv.last_message_at = _at(today, texts[-1][2], texts[-1][3])
        conv.awaiting_reply_since = (
            _at(today, texts[0][2], texts[0][3]) if last.sender_kind == ParticipantKind.GUARDIAN else None
        )
        for user, kind in people:
            sent = [m.pk for m in own if m.sender_id == user.pk]
            read = last.pk if (read_all or last.sender_id == user.pk) else max(sent, default=0)
            participants.append(
                Participant(
                    school=school,
                    conversation=conv,
                    user=user,
                    kind=kind,
                    last_read_id=read,
                    latest_message_id=last.pk,
                    latest_message_at=_at(today, texts[-1][2], texts[-1][3]),
                )
            )
    update_objects(Message, messages, ["created_at"])
    update_objects(
        Conversation, conversations, ["created_at", "last_message", "last_message_at", "awaiting_reply_since"]
    )
    b.bulk(Participant, participants)

    demo_class = teacher.homeroom_classes.filter(school=school).first() if teacher is not None else None
    level5 = b.levels.get(5)
    notices = [
        Announcement(
            school=school,
            audience=Audience.SCHOOL,
            title="Загальношкільні батьківські збори",
            body="Запрошуємо батьків на загальношкільні збори. "
            "Порядок денний: підсумки першого семестру, харчування, безпека.",
            event_start=_at(today, 7, 18),
            event_end=_at(today, 7, 19, 30),
            place="Актова зала",
            author=director,
        ),
        Announcement(
            school=school,
            audience=Audience.STAFF,
            title="Педагогічна рада",
            body="Засідання педагогічної ради: про стан ведення журналів і виконання навчальних програм.",
            event_start=_at(today, 3, 15),
            place="Учительська",
            author=deputy,
        ),
    ]
    if level5 is not None:
        notices.append(
            Announcement(
                school=school,
                audience=Audience.YEAR_LEVEL,
                year_level=level5,
                title="Шкільна олімпіада з математики для 5-х класів",
                body="Олімпіада відбудеться на 5-6 уроках. Запис у вчителів математики.",
                event_start=_at(today, 12, 12, 20),
                place="Каб. 21",
                author=deputy,
            )
        )
    if demo_class is not None:
        notices.append(
            Announcement(
                school=school,
                audience=Audience.CLASS,
                school_class=demo_class,
                title="Екскурсія до Національного музею історії України",
                body="Збір біля школи о 9:00. Вартість квитка — 60 грн, здати до середи.",
                event_start=_at(today, 10, 9),
                event_end=_at(today, 10, 13),
                place="Біля центрального входу",
                author=teacher,
            )
        )
    b.bulk(Announcement, notices)
    for a in notices:
        a.published_at = _at(today, -1, 16)
    update_objects(Announcement, notices, ["published_at"])

    (topic,) = b.bulk(
        ForumTopic,
        [
            ForumTopic(
                school=school,
                title="Шкільна форма на наступний рік",
                body="Пропонуємо обговорити, чи залишати єдину шкільну форму. Висловлюйтеся, будь ласка, коректно.",
                author=director,
                open_to_parents=True,
                open_to_students=False,
            )
        ],
    )
    other_parent = next((f.guardians[0][0] for f in b.families[1:] if f.guardians), None)
    replies = [
        ForumReply(school=school, topic=topic, author=a, body=text)
        for a, text in [
            (parent, "Я за форму: менше суперечок уранці і менше витрат."),
            (other_parent, "Пропоную залишити лише єдиний колір, а фасон — на вибір."),
        ]
        if a is not None
    ]
    b.bulk(ForumReply, replies)
    if replies:
        topic.last_reply_at = timezone.now()
        update_objects(ForumTopic, [topic], ["last_reply_at"])

    b.bulk(
        AuditEntry,
        [
            AuditEntry(
                school=school,
                actor_id=a.author_id,
                action="messaging.announcement.published",
                object_type="messaging.announcement",
                object_id=str(a.pk),
                data={"audience": a.audience, "title": a.title},
            )
            for a in notices
        ]
        + [
            AuditEntry(
                school=school,
                actor_id=director.pk,
                action="messaging.forum_topic.opened",
                object_type="messaging.forumtopic",
                object_id=str(topic.pk),
                data={"title": topic.title},
            )
        ]
        + [
            AuditEntry(
                school=school,
                actor_id=c.created_by_id,
                action="messaging.conversation.started",
                object_type="messaging.conversation",
                object_id=str(c.pk),
                data={"student": c.student_id},
            )
            for c in conversations
        ],
    )
